// Simulated lease clients: each grants a lease with a short TTL (etcd's minimum and a little
// more), puts keys of its own with it, and then either keeps it alive (keep-alives at a third of
// the TTL, as etcd's clients do) or lets it expire; now and then it revokes its lease or
// compacts the history. Every answer that promises something about a lease is reported to the
// LeaseChecker. Their keys (l<client>-<n>) are apart from the linearizability workload's.
//
// Requests go to the member the client believes leads, one at a time; any failure or timeout
// drops the lease from the client's hands (an unanswered grant may still exist and expires on
// its own). Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/rand.h"
#include "sim/event_queue.h"
#include "sim/lease_checker.h"
#include "sim/sim_node.h"
#include "sim/workload.h"

namespace raftkv::sim {

struct LeaseClientOptions {
  int clients = 2;
  // Client ids are first_client_id, first_client_id + 1, ... (apart from the workload's).
  uint64_t first_client_id = 1000;
  TimeUs request_timeout_us = 150'000;
  TimeUs min_think_us = 5'000;
  TimeUs max_think_us = 30'000;
  // A TTL lasts this many of the cluster's ticks (tick_us) per second: the driver's lease clock
  // counts ticks of tick_millis.
  uint64_t tick_millis = 100;
  TimeUs tick_us = 10'000;
};

struct LeaseClientStats {
  uint64_t granted = 0;
  uint64_t renewed = 0;
  uint64_t revoked = 0;
  uint64_t expired_seen = 0;  // a keep-alive or put found the lease gone
  uint64_t compactions = 0;
};

class LeaseClients {
 public:
  LeaseClients(const LeaseClientOptions& options, EventQueue* queue, base::Rand* rand,
               LeaseChecker* checker, ClientNetwork* network);

  void Start();
  void Stop() { stopped_ = true; }
  bool Idle() const;
  bool Owns(uint64_t client_id) const {
    return client_id >= options_.first_client_id &&
           client_id < options_.first_client_id + clients_.size();
  }
  void OnReply(const ClientReply& reply);
  const LeaseClientStats& stats() const { return stats_; }

 private:
  enum class Op : uint8_t { kGrant, kPut, kKeepAlive, kRevoke, kCompact };
  struct Client {
    uint64_t id = 0;
    bool busy = false;
    Op op = Op::kGrant;
    uint64_t request_id = 0;
    uint64_t target = 0;
    int64_t lease = 0;  // held lease (0: none)
    int64_t ttl = 0;
    bool keep_alive = false;
    TimeUs renewed_at = 0;  // last grant or keep-alive answer
    int64_t last_revision = 0;
    uint64_t leases_granted = 0;
  };

  void Next(Client& c);
  void Send(Client& c, ClientRequest request);
  void Done(Client& c);
  void OnOk(Client& c, const ClientReply& reply);
  uint64_t RandomNode();
  TimeUs TtlUs(int64_t ttl_seconds) const;

  LeaseClientOptions options_;
  EventQueue* queue_;
  base::Rand* rand_;
  LeaseChecker* checker_;
  ClientNetwork* network_;
  std::vector<Client> clients_;
  uint64_t next_request_id_ = 1;
  bool stopped_ = false;
  LeaseClientStats stats_;
};

}  // namespace raftkv::sim
