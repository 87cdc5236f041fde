// When each lease expires, as the leader sees it (etcd's primary lessor), counted in ticks.
//
// The store holds the leases themselves (id, granted TTL, keys) as replicated state; expiry is
// not replicated. Only the leader keeps expiry times: it becomes the lease clock's owner
// (Promote) once it has applied its first entry of its term, giving every lease its full TTL
// plus an election timeout from then (etcd's Promote), so no lease expires because leadership
// moved. Followers keep nothing and never expire anything. An expired lease is handed out once
// by TakeExpired for the leader to propose its revoke through the log; if the revoke has not
// applied after `retry_ticks` (the proposal was lost), it is handed out again.
//
// Pure and deterministic: time is the caller's tick count. Not thread-safe (the driver's).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "kv/store.h"

namespace raftkv::node {

class LeaseClock {
 public:
  // `tick_millis`: the length of one tick in the host's clock; TTLs are seconds.
  explicit LeaseClock(uint64_t tick_millis);

  // Whether this member keeps expiry times (it leads, and has promoted).
  bool primary() const { return primary_; }

  // Takes over expiry: every lease in `leases` expires `ttl + extend_ticks` after `now`.
  void Promote(uint64_t now, uint64_t extend_ticks, const std::vector<kv::LeaseState>& leases);
  // Gives up expiry (leadership was lost): forgets every expiry time.
  void Demote();
  // Follows the store's leases after a snapshot replaced them: leases that disappeared are
  // forgotten, new ones get a full TTL from `now`, the others keep their expiry.
  void Follow(uint64_t now, const std::vector<kv::LeaseState>& leases);

  // A grant was applied (a no-op unless primary): it expires `ttl` seconds after `now`.
  void Granted(uint64_t now, int64_t id, int64_t ttl);
  // A revoke was applied.
  void Revoked(int64_t id);
  // A keep-alive: the lease expires `ttl` seconds after `now` again. False when the lease is
  // unknown or already expired (its revoke is under way). REQUIRES: primary().
  bool Renew(uint64_t now, int64_t id, int64_t ttl);
  // Whole seconds until the lease expires (0 once expired); nullopt when unknown.
  std::optional<int64_t> RemainingSeconds(uint64_t now, int64_t id) const;

  // Up to `limit` leases that expired at or before `now`, soonest first. Each is then left alone
  // for `retry_ticks`, so its revoke is proposed once, and again only if it did not apply.
  std::vector<int64_t> TakeExpired(uint64_t now, uint64_t retry_ticks, size_t limit);

  // Ticks in `seconds` (rounded up, so a lease never expires early).
  uint64_t TicksFor(int64_t seconds) const;
  size_t size() const { return expiry_.size(); }

 private:
  void Set(int64_t id, uint64_t at);

  const uint64_t tick_millis_;
  bool primary_ = false;
  // id -> expiry tick, and the same ordered by expiry for TakeExpired.
  std::map<int64_t, uint64_t> expiry_;
  std::set<std::pair<uint64_t, int64_t>> by_expiry_;
  // Expired leases whose revoke was proposed: a keep-alive can no longer save them.
  std::set<int64_t> revoking_;
};

}  // namespace raftkv::node
