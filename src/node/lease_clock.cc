#include "node/lease_clock.h"

#include <algorithm>

namespace raftkv::node {

LeaseClock::LeaseClock(uint64_t tick_millis) : tick_millis_(std::max<uint64_t>(tick_millis, 1)) {}

uint64_t LeaseClock::TicksFor(int64_t seconds) const {
  if (seconds <= 0) return 0;
  // TTLs are at most kMaxLeaseTtlSeconds (9e9), so the product fits easily.
  const uint64_t millis = static_cast<uint64_t>(seconds) * 1000;
  return (millis + tick_millis_ - 1) / tick_millis_;
}

void LeaseClock::Set(int64_t id, uint64_t at) {
  auto [it, inserted] = expiry_.try_emplace(id, at);
  if (!inserted) {
    by_expiry_.erase({it->second, id});
    it->second = at;
  }
  by_expiry_.insert({at, id});
}

void LeaseClock::Promote(uint64_t now, uint64_t extend_ticks,
                         const std::vector<kv::LeaseState>& leases) {
  Demote();
  primary_ = true;
  for (const kv::LeaseState& lease : leases) Set(lease.id, now + extend_ticks + TicksFor(lease.ttl));
}

void LeaseClock::Demote() {
  primary_ = false;
  expiry_.clear();
  by_expiry_.clear();
  revoking_.clear();
}

void LeaseClock::Follow(uint64_t now, const std::vector<kv::LeaseState>& leases) {
  if (!primary_) return;
  std::map<int64_t, uint64_t> kept;
  for (const kv::LeaseState& lease : leases) {
    auto it = expiry_.find(lease.id);
    kept[lease.id] = it != expiry_.end() ? it->second : now + TicksFor(lease.ttl);
  }
  expiry_.clear();
  by_expiry_.clear();
  std::set<int64_t> revoking;
  for (const auto& [id, at] : kept) {
    Set(id, at);
    if (revoking_.contains(id)) revoking.insert(id);
  }
  revoking_ = std::move(revoking);
}

void LeaseClock::Granted(uint64_t now, int64_t id, int64_t ttl) {
  if (primary_) Set(id, now + TicksFor(ttl));
}

void LeaseClock::Revoked(int64_t id) {
  auto it = expiry_.find(id);
  if (it != expiry_.end()) {
    by_expiry_.erase({it->second, id});
    expiry_.erase(it);
  }
  revoking_.erase(id);
}

bool LeaseClock::Renew(uint64_t now, int64_t id, int64_t ttl) {
  auto it = expiry_.find(id);
  if (it == expiry_.end() || revoking_.contains(id) || it->second <= now) return false;
  Set(id, now + TicksFor(ttl));
  return true;
}

std::optional<int64_t> LeaseClock::RemainingSeconds(uint64_t now, int64_t id) const {
  auto it = expiry_.find(id);
  if (it == expiry_.end()) return std::nullopt;
  if (revoking_.contains(id) || it->second <= now) return 0;
  // Whole seconds, rounded down as etcd's int64(Remaining().Seconds()) does. The clock reads
  // whole ticks, but some time has always passed since the last one (etcd reads the wall clock
  // later than the grant, so a fresh 60 s lease shows 59 s): count the remaining time as just
  // under its tick count.
  return static_cast<int64_t>(((it->second - now) * tick_millis_ - 1) / 1000);
}

std::vector<int64_t> LeaseClock::TakeExpired(uint64_t now, uint64_t retry_ticks, size_t limit) {
  std::vector<int64_t> expired;
  while (expired.size() < limit && !by_expiry_.empty() && by_expiry_.begin()->first <= now) {
    const int64_t id = by_expiry_.begin()->second;
    expired.push_back(id);
    revoking_.insert(id);
    Set(id, now + std::max<uint64_t>(retry_ticks, 1));
  }
  return expired;
}

}  // namespace raftkv::node
