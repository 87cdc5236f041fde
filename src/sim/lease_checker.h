// The lease properties of a run (etcd's primary lessor, node::LeaseClock):
//
//   Lease Expiry: a revoke that a lease's expiry caused is proposed by the leader of its term
//     (never by a follower), and, once applied, was not proposed before the lease could have
//     expired: a grant or keep-alive a leader acknowledged at time t with TTL T protects the
//     lease until t + T on that leader's tick clock (less one tick of phase), and so does one
//     acknowledged by an earlier leader before the revoking leader was elected (a new leader
//     gives every lease its full TTL from its takeover). Keep-alives a deposed leader answered
//     after the next leader was elected promise nothing (as in etcd 3.4, renewals are not
//     checked against a quorum), and revokes clients asked for are not expiries.
//   Lease Durability: a lease whose grant a client saw acknowledged at index i exists on every
//     member that applied i and has not applied a revoke of it, across crashes, restarts and
//     snapshot installs.
//
// Times are the simulator's virtual clock; ticks are the cluster's tick period. Not
// thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "kv/store.h"
#include "raftkv/kvpb/kv.pb.h"
#include "raftkv/raftpb/raft.pb.h"
#include "sim/event_queue.h"
#include "sim/safety_checker.h"

namespace raftkv::sim {

inline constexpr char kLeaseExpiry[] = "Lease Expiry";
inline constexpr char kLeaseDurability[] = "Lease Durability";

class LeaseChecker {
 public:
  // `tick_us`: the cluster's tick period; `tick_millis`: the length of a tick in the driver's
  // lease clock (TTL seconds to ticks).
  LeaseChecker(SafetyChecker* checker, TimeUs tick_us, uint64_t tick_millis);

  // --- From the nodes. ---
  // `node`, in `term`, persisted `entries` to its log at `now`. The first node to persist an
  // entry is the leader that appended it: that is when the entry was proposed.
  void ObserveAppended(uint64_t node, uint64_t term, const std::vector<raftpb::Entry>& entries,
                       TimeUs now);
  // `node` applied `entry`, which carries `request`.
  void ObserveApplied(uint64_t node, const raftpb::Entry& entry, const kvpb::Request& request);

  // --- From the clients. ---
  // A grant (applied as `index`) or keep-alive of lease `id` with `ttl_seconds`, answered by a
  // member in `term` at `at`.
  void ObserveServed(int64_t id, uint64_t term, TimeUs at, int64_t ttl_seconds);
  void ObserveGranted(int64_t id, uint64_t index) { granted_.emplace(id, index); }
  // A client asked for lease `id` to be revoked at `at`.
  void ObserveClientRevoke(int64_t id, TimeUs at) { client_revokes_.emplace(id, at); }

  // Lease Durability for one member's state.
  void CheckMember(uint64_t node, const kv::Store& store);

  size_t expiry_revokes_checked() const { return expiry_revokes_checked_; }

 private:
  struct Proposed {
    int64_t lease = 0;
    uint64_t proposer = 0;
    TimeUs at = 0;
  };
  struct Served {
    uint64_t term = 0;
    TimeUs at = 0;
    int64_t ttl_seconds = 0;
  };

  // A revoke of `lease` proposed at `at` that no client asked for before then.
  bool ByExpiry(int64_t lease, TimeUs at) const;
  void CheckExpiryTiming(const raftpb::Entry& entry, const Proposed& proposed);

  SafetyChecker* const checker_;
  const TimeUs tick_us_;
  const uint64_t tick_millis_;
  // Time each term's first entry was appended (its leader was elected by then).
  std::map<uint64_t, TimeUs> term_start_;
  // Revoke entries by (index, term), as first appended.
  std::map<std::pair<uint64_t, uint64_t>, Proposed> revokes_;
  std::set<std::pair<uint64_t, uint64_t>> timing_checked_;
  std::multimap<int64_t, Served> served_;
  std::map<int64_t, TimeUs> client_revokes_;  // earliest request
  std::map<int64_t, uint64_t> granted_;       // acknowledged grants: lease -> index
  std::map<int64_t, std::set<uint64_t>> revoked_at_;  // lease -> indexes of applied revokes
  size_t expiry_revokes_checked_ = 0;
};

}  // namespace raftkv::sim
