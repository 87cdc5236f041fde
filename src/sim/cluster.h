// A whole simulated cluster: N nodes running the server's node driver, the network between
// them, simulated clients, a fault API for scenarios and the nemesis, and the safety checker
// watching every step.
//
// Everything — message fates, election timeouts, client choices — is drawn from one seeded
// random source and one event queue, so a Cluster built with the same options and driven the
// same way produces the same trace hash. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/rand.h"
#include "sim/event_queue.h"
#include "sim/lease_checker.h"
#include "sim/lease_clients.h"
#include "sim/network.h"
#include "sim/safety_checker.h"
#include "sim/sim_node.h"
#include "sim/trace.h"
#include "sim/watch_checker.h"
#include "sim/workload.h"

namespace raftkv::sim {

struct ClusterOptions {
  uint64_t seed = 1;
  int nodes = 3;  // ids 1..nodes, all founding voters
  NodeOptions node;
  NetworkFaults network;
  WorkloadOptions workload;
  TimeUs tick_us = 10'000;
  // Latency between clients and nodes (clients are never partitioned).
  TimeUs client_latency_us = 1'000;
  // Lease clients and watchers (one per workload client), with the lease and watch checks.
  bool leases_and_watches = false;
  LeaseClientOptions lease_clients;
  // Watchers read a member's history this often, in pages of this many events.
  TimeUs watch_interval_us = 20'000;
  size_t watch_page_limit = 3;
};

class Cluster final : public NodeHost, public ClientNetwork {
 public:
  explicit Cluster(const ClusterOptions& options);
  ~Cluster() override;

  const ClusterOptions& options() const { return options_; }
  TimeUs now_us() const override { return queue_.now_us(); }
  std::vector<uint64_t> node_ids() const override { return ids_; }
  base::Rand& rand() { return rand_; }
  Trace& trace() { return trace_; }
  SafetyChecker& checker() { return checker_; }
  Network& network() { return network_; }
  Workload& workload() { return *workload_; }
  // Null unless options().leases_and_watches.
  const LeaseClients* lease_clients() const { return lease_clients_.get(); }
  const LeaseChecker* lease_checker() const { return lease_checker_.get(); }
  const WatchChecker* watch_checker() const { return watch_checker_.get(); }
  // Starts the workload's clients, and the lease clients and watchers if the run has them.
  void StartClients();
  EventQueue& queue() { return queue_; }
  bool failed() const { return checker_.failed(); }

  // --- Running. All stop early once a violation is found. ---
  void RunFor(TimeUs duration_us);
  // Runs until `done` holds (checked after every event) or `timeout_us` passes.
  bool RunUntil(const std::function<bool()>& done, TimeUs timeout_us);

  // --- Faults. ---
  void Crash(uint64_t id);
  void Restart(uint64_t id);
  bool IsUp(uint64_t id) const { return nodes_.at(id)->up(); }
  // Cuts `id` off from every other node, both ways.
  void Isolate(uint64_t id);
  // Only nodes in the same group can talk; replaces earlier cuts.
  void Partition(const std::vector<std::vector<uint64_t>>& groups);
  void CutOneWay(uint64_t from, uint64_t to);
  void Heal();
  void SetNetwork(const NetworkFaults& faults);
  // A free-form line in the trace, for faults the scenario applies itself.
  void Note(std::string text);

  // --- Observation. ---
  SimNode& node(uint64_t id) { return *nodes_.at(id); }
  // The up node that leads in the highest term, or 0.
  uint64_t Leader() const;
  // Up nodes that consider themselves leader.
  std::vector<uint64_t> Leaders() const;
  // Number of up nodes that have applied the direct put of `value` (ProposeAt), and the index
  // it was first applied at (0 if none).
  int AppliedCount(const std::string& value) const;
  uint64_t AppliedIndex(const std::string& value) const;
  // Whether every node is up and has published its attributes through the log.
  bool AllPublished() const;

  // --- Driving the core directly (agreement scenarios). ---
  // Proposes a put of `value` (to a key of its own) through node `id` if it leads; false if it
  // refused. AppliedCount(value) follows it.
  bool ProposeAt(uint64_t id, const std::string& value);
  // Proposes `value` at whichever node leads, retrying until `expected` up nodes applied it or
  // `timeout_us` passes (the test harness's "agree on one value"). Returns its index or 0.
  uint64_t Agree(const std::string& value, int expected, TimeUs timeout_us);

  // --- Ends of a run. ---
  // Heals the network, makes it reliable, restarts crashed nodes, stops clients, and waits
  // until all nodes in the latest configuration applied the same index. Reports a Liveness
  // violation if they do not within `timeout_us`.
  void Quiesce(TimeUs timeout_us);
  // Runs the linearizability checker over the client history and the acknowledged-write check.
  void CheckHistory();

 private:
  // NodeHost.
  void SendRaftMessage(const raftpb::Message& message) override;
  void ReplyToClient(uint64_t node, const ClientReply& reply) override;
  // ClientNetwork.
  void SendClientRequest(uint64_t node, const ClientRequest& request) override;
  void OnAppliedRequest(uint64_t node, uint64_t index, const kvpb::Request& request) override;

  void Deliver(const raftpb::Message& message);
  void Lost(const raftpb::Message& message, bool link_down);
  void ScheduleTick(uint64_t id, TimeUs at_us);
  // Each watcher reads the history of a random up member; that member's leases are checked.
  void ScheduleWatch(TimeUs at_us);
  void CheckLeasesAndWatches();

  ClusterOptions options_;
  EventQueue queue_;
  base::Rand rand_;
  Trace trace_;
  SafetyChecker checker_;
  Network network_;
  std::vector<uint64_t> ids_;
  std::map<uint64_t, std::unique_ptr<SimNode>> nodes_;
  std::unique_ptr<Workload> workload_;
  std::unique_ptr<LeaseChecker> lease_checker_;
  std::unique_ptr<LeaseClients> lease_clients_;
  std::unique_ptr<WatchChecker> watch_checker_;
  // Which member each watcher reads: its own stream, so the other choices stay as they were.
  base::Rand watch_rand_;
  bool stopped_watching_ = false;
  std::map<std::string, uint64_t> applied_index_;  // direct put value -> index first applied at
};

}  // namespace raftkv::sim
