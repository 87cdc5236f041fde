// Simulated clients: each issues get, put and compare-and-set operations on a few keys, one at
// a time, through the node it believes leads, as real etcd requests (a put; a transaction
// comparing the value, or the key's absence, then putting; a read-only transaction, or a
// ReadIndex read), and records every operation in a linearizability history.
//
// The store has no client sessions, so a write is sent again only after an answer that
// certainly means it was never proposed (not the leader, no leader, overloaded); a write whose
// attempt timed out may still take effect and is not retried. Reads are retried on anything
// until the operation deadline. Outcomes follow lincheck's rules: ok with the store's answer;
// failed when no attempt can have taken effect (or it was a read); unknown otherwise. Not
// thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/rand.h"
#include "lincheck/history.h"
#include "raftkv/kvpb/kv.pb.h"
#include "sim/event_queue.h"
#include "sim/safety_checker.h"
#include "sim/sim_node.h"
#include "sim/trace.h"

namespace raftkv::sim {

struct WorkloadOptions {
  int clients = 3;
  int keys = 2;
  double get_fraction = 0.4;
  double cas_fraction = 0.3;  // the rest are puts
  // Reads go through ReadIndex instead of the log.
  bool read_index = false;
  TimeUs request_timeout_us = 150'000;
  // A client gives up on an operation this long after invoking it.
  TimeUs operation_deadline_us = 1'000'000;
  TimeUs max_think_us = 20'000;
  TimeUs retry_backoff_us = 5'000;
};

// One client operation, as the history records it.
struct Command {
  enum class Kind : uint8_t { kGet, kPut, kCas };
  Kind kind = Kind::kGet;
  std::string key;
  std::string value;                    // kPut, kCas: the value written
  std::optional<std::string> expected;  // kCas: nullopt means "key absent"
};

// The etcd request that carries `command` through the log.
kvpb::Request RequestFor(const Command& command);

struct WorkloadStats {
  uint64_t invoked = 0;
  uint64_t ok = 0;
  uint64_t failed = 0;
  uint64_t unknown = 0;
};

// How clients reach nodes; implemented by the cluster.
class ClientNetwork {
 public:
  virtual ~ClientNetwork() = default;
  virtual void SendClientRequest(uint64_t node, const ClientRequest& request) = 0;
  virtual std::vector<uint64_t> node_ids() const = 0;
};

class Workload {
 public:
  Workload(const WorkloadOptions& options, EventQueue* queue, base::Rand* rand, Trace* trace,
           SafetyChecker* checker, ClientNetwork* network);

  // Clients start issuing operations; Stop() lets them finish the current one and stop.
  void Start();
  void Stop() { stopped_ = true; }
  // Whether every client is idle (no operation open).
  bool Idle() const;

  void OnReply(const ClientReply& reply);

  const WorkloadStats& stats() const { return stats_; }
  // The history so far; operations still open are reported as unknown.
  lincheck::History History() const;

 private:
  struct Client {
    uint64_t id = 0;
    bool busy = false;
    Command command;
    lincheck::HistoryBuilder::OpId op = 0;
    TimeUs deadline_us = 0;
    uint64_t request_id = 0;                       // of the attempt in flight (0: none)
    uint64_t target = 0;                           // node the client believes leads
    std::map<std::string, std::string> last_seen;  // key -> value, for plausible CAS
  };

  void NextOperation(Client& client);
  void Attempt(Client& client);
  void Retry(Client& client, uint64_t hint);
  void OnOk(Client& client, const ClientReply& reply);
  void Finish(Client& client, lincheck::OpStatus status,
              const std::optional<std::string>& value = std::nullopt, bool swapped = false);
  uint64_t RandomNode();

  WorkloadOptions options_;
  EventQueue* queue_;
  base::Rand* rand_;
  Trace* trace_;
  SafetyChecker* checker_;
  ClientNetwork* network_;
  std::vector<Client> clients_;
  lincheck::HistoryBuilder history_;
  uint64_t next_request_id_ = 1;
  uint64_t next_value_ = 1;
  bool stopped_ = false;
  WorkloadStats stats_;
};

}  // namespace raftkv::sim
