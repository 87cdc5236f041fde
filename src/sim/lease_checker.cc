#include "sim/lease_checker.h"

#include <algorithm>

#include "fmt/format.h"
#include "raftkv/peerpb/peer.pb.h"

namespace raftkv::sim {
namespace {

// The kv request a normal entry carries, if any.
bool DecodeRequest(const raftpb::Entry& entry, peerpb::Proposal* proposal,
                   kvpb::Request* request) {
  if (entry.entry_type() != raftpb::ENTRY_NORMAL || entry.data().empty()) return false;
  if (!proposal->ParseFromString(entry.data()) || !proposal->has_kv_request()) return false;
  return request->ParseFromString(proposal->kv_request());
}

}  // namespace

LeaseChecker::LeaseChecker(SafetyChecker* checker, TimeUs tick_us, uint64_t tick_millis)
    : checker_(checker), tick_us_(tick_us), tick_millis_(std::max<uint64_t>(tick_millis, 1)) {}

bool LeaseChecker::ByExpiry(int64_t lease, TimeUs at) const {
  auto it = client_revokes_.find(lease);
  return it == client_revokes_.end() || it->second > at;
}

void LeaseChecker::ObserveAppended(uint64_t node, uint64_t term,
                                   const std::vector<raftpb::Entry>& entries, TimeUs now) {
  for (const raftpb::Entry& entry : entries) {
    term_start_.emplace(entry.term(), now);
    peerpb::Proposal proposal;
    kvpb::Request request;
    if (!DecodeRequest(entry, &proposal, &request) || !request.has_lease_revoke()) continue;
    const auto key = std::make_pair(entry.index(), entry.term());
    if (revokes_.contains(key)) continue;
    // Only the leader appends an entry before anyone else has it.
    const Proposed proposed{
        .lease = request.lease_revoke().id(), .proposer = proposal.proposer(), .at = now};
    revokes_.emplace(key, proposed);
    if (ByExpiry(proposed.lease, now) && (proposed.proposer != node || entry.term() != term)) {
      checker_->Report(
          kLeaseExpiry,
          fmt::format("the revoke of lease {:x} at index {} term {} was proposed by node {}, "
                      "not by the leader of that term (node {}, term {}): only the leader "
                      "expires leases",
                      proposed.lease, entry.index(), entry.term(), proposed.proposer, node, term),
          {node, proposed.proposer});
    }
  }
}

void LeaseChecker::ObserveApplied(uint64_t node, const raftpb::Entry& entry,
                                  const kvpb::Request& request) {
  (void)node;
  if (!request.has_lease_revoke()) return;
  revoked_at_[request.lease_revoke().id()].insert(entry.index());
  const auto key = std::make_pair(entry.index(), entry.term());
  auto proposed = revokes_.find(key);
  if (proposed == revokes_.end() || !timing_checked_.insert(key).second) return;
  if (!ByExpiry(proposed->second.lease, proposed->second.at)) return;
  CheckExpiryTiming(entry, proposed->second);
}

void LeaseChecker::CheckExpiryTiming(const raftpb::Entry& entry, const Proposed& proposed) {
  ++expiry_revokes_checked_;
  const TimeUs elected = term_start_.contains(entry.term()) ? term_start_.at(entry.term()) : 0;
  auto [begin, end] = served_.equal_range(proposed.lease);
  for (auto it = begin; it != end; ++it) {
    const Served& s = it->second;
    // What the revoking leader promised itself, or what an earlier leader promised before the
    // revoking one took over (it then extends every lease by a full TTL).
    if (s.term != entry.term() && !(s.term < entry.term() && s.at < elected)) continue;
    const uint64_t ticks =
        (static_cast<uint64_t>(s.ttl_seconds) * 1000 + tick_millis_ - 1) / tick_millis_;
    // The leader's ticks are out of phase with the answer by less than one tick.
    const TimeUs protected_until = s.at + (static_cast<TimeUs>(ticks) - 1) * tick_us_;
    if (proposed.at < protected_until) {
      checker_->Report(
          kLeaseExpiry,
          fmt::format("lease {:x} (TTL {} s = {} ticks) was renewed or granted in term {} at "
                      "{:.6f} s, and node {} proposed its expiry revoke (index {} term {}) at "
                      "{:.6f} s, before {:.6f} s",
                      proposed.lease, s.ttl_seconds, ticks, s.term, s.at / 1e6, proposed.proposer,
                      entry.index(), entry.term(), proposed.at / 1e6, protected_until / 1e6),
          {proposed.proposer});
      return;
    }
  }
}

void LeaseChecker::ObserveServed(int64_t id, uint64_t term, TimeUs at, int64_t ttl_seconds) {
  served_.emplace(id, Served{.term = term, .at = at, .ttl_seconds = ttl_seconds});
}

void LeaseChecker::CheckMember(uint64_t node, const kv::Store& store) {
  const uint64_t applied = store.applied_index();
  for (const auto& [id, index] : granted_) {
    if (applied < index) continue;
    auto revoked = revoked_at_.find(id);
    if (revoked != revoked_at_.end()) {
      auto after = revoked->second.upper_bound(index);
      if (after != revoked->second.end() && *after <= applied) continue;
    }
    if (!store.FindLease(id, false).has_value()) {
      checker_->Report(kLeaseDurability,
                       fmt::format("node {} applied up to index {} without lease {:x}, granted and "
                                   "acknowledged at index {} and never revoked there",
                                   node, applied, id, index),
                       {node});
      return;
    }
  }
}

}  // namespace raftkv::sim
