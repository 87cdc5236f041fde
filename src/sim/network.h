// The simulated network between consensus nodes: latency drawn from a distribution, loss,
// duplication, reordering (a consequence of independent latencies), and partitions that may
// be symmetric or one-way.
//
// The network only decides *whether* and *when* a message arrives; delivery itself is an event
// on the shared EventQueue that calls back into the cluster. All randomness comes from the
// Rand handed in, so the fate of every message is fixed by the run's seed. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "base/rand.h"
#include "raftkv/raftpb/raft.pb.h"
#include "sim/event_queue.h"
#include "sim/trace.h"

namespace raftkv::sim {

struct NetworkFaults {
  // One-way latency: usually uniform in [min, max); with probability slow_probability the
  // message is slow and takes up to slow_max_us instead (a long tail reorders messages).
  TimeUs min_latency_us = 500;
  TimeUs max_latency_us = 3000;
  double slow_probability = 0.0;
  TimeUs slow_max_us = 50000;
  double drop_probability = 0.0;
  double duplicate_probability = 0.0;

  static NetworkFaults Reliable() { return NetworkFaults{}; }
  static NetworkFaults Unreliable() {
    return NetworkFaults{.min_latency_us = 500,
                         .max_latency_us = 8000,
                         .slow_probability = 0.05,
                         .slow_max_us = 60000,
                         .drop_probability = 0.1,
                         .duplicate_probability = 0.05};
  }
};

// Counters, for scenarios that bound the traffic.
struct NetworkStats {
  uint64_t sent = 0;
  uint64_t delivered = 0;
  uint64_t dropped = 0;
  uint64_t duplicated = 0;
  uint64_t bytes_sent = 0;
  // Entries carried by appends, per (follower, index): how often each entry was shipped.
  std::map<std::pair<uint64_t, uint64_t>, int> entry_sends;
  std::map<int, uint64_t> sent_by_type;
};

class Network {
 public:
  using DeliverFn = std::function<void(const raftpb::Message&)>;

  // Called for a lost message; `link_down` when the link was cut (a real transport notices
  // the broken connection), false for a silent random loss.
  using LostFn = std::function<void(const raftpb::Message&, bool link_down)>;

  // `deliver` runs when a message arrives, `lost` when one is dropped.
  Network(EventQueue* queue, base::Rand* rand, Trace* trace, DeliverFn deliver, LostFn lost)
      : queue_(queue),
        rand_(rand),
        trace_(trace),
        deliver_(std::move(deliver)),
        lost_(std::move(lost)) {}

  void set_faults(const NetworkFaults& faults) { faults_ = faults; }
  const NetworkFaults& faults() const { return faults_; }
  const NetworkStats& stats() const { return stats_; }
  void ResetStats() { stats_ = NetworkStats{}; }

  // Sends a message; it may be dropped, delayed, duplicated. A message whose link is cut when
  // it is sent, or when it would arrive, is lost.
  void Send(const raftpb::Message& message);

  // Partitions. Cut(from, to) is one-way; the other helpers are built on it.
  void Cut(uint64_t from, uint64_t to) { cut_.insert({from, to}); }
  void CutBoth(uint64_t a, uint64_t b) {
    Cut(a, b);
    Cut(b, a);
  }
  // Cuts every link between `id` and any of `others`, both ways.
  void Isolate(uint64_t id, const std::vector<uint64_t>& others);
  // Only nodes in the same group can talk; replaces any earlier cuts.
  void Partition(const std::vector<std::vector<uint64_t>>& groups);
  void Heal() { cut_.clear(); }
  bool Connected(uint64_t from, uint64_t to) const { return !cut_.contains({from, to}); }

 private:
  void Schedule(const raftpb::Message& message, TraceKind kind);
  TimeUs DrawLatency();

  EventQueue* queue_;
  base::Rand* rand_;
  Trace* trace_;
  DeliverFn deliver_;
  LostFn lost_;
  NetworkFaults faults_;
  NetworkStats stats_;
  std::set<std::pair<uint64_t, uint64_t>> cut_;
};

// Trace fields for a message (see TraceKind::kSend).
TraceEvent MessageTraceEvent(TimeUs at_us, TraceKind kind, const raftpb::Message& message);

}  // namespace raftkv::sim
