// The node driver's leases: ids and minimum TTLs chosen before a grant is proposed, expiry kept
// by the leader alone (LeaseClock) and carried out by proposing revokes through the log, and
// keep-alives and TTL queries answered from the leader's clock (etcd's primary lessor).
#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "fmt/format.h"
#include "kv/errors.h"
#include "node/driver.h"
#include "node/errors.h"
#include "raftkv/peerpb/peer.pb.h"

namespace raftkv::node {
namespace {

// A revoke the leader proposed for an expired lease is proposed again if it has not applied
// within this long (etcd's expired-lease retry interval).
constexpr uint64_t kRevokeRetryMillis = 3000;

}  // namespace

int64_t Driver::MinLeaseTtlSeconds() const {
  // etcd: minTTL = (3 * ElectionTicks / 2) heartbeats, rounded up to whole seconds.
  const uint64_t millis =
      static_cast<uint64_t>(3 * options_.election_ticks / 2) * options_.tick_millis;
  return static_cast<int64_t>((millis + 999) / 1000);
}

void Driver::PrepareLeaseGrant(kvpb::Request& request) {
  etcdserverpb::LeaseGrantRequest* grant = request.mutable_lease_grant();
  // etcd picks a positive id from its request id generator; ours differ between members and
  // incarnations the same way (request_id_base).
  while (grant->id() == 0) {
    grant->set_id(static_cast<int64_t>(NextRequestId() & ((uint64_t{1} << 63) - 1)));
  }
  grant->set_ttl(std::max(grant->ttl(), MinLeaseTtlSeconds()));
}

void Driver::ProposeUnwaited(const kvpb::Request& request) {
  // Joins the batch like a write, but no caller waits for its answer.
  peerpb::Proposal proposal;
  proposal.set_request_id(NextRequestId());
  proposal.set_proposer(options_.id);
  proposal.set_kv_request(request.SerializeAsString());
  batch_.push_back(proposal.SerializeAsString());
  batch_ids_.push_back(proposal.request_id());
}

void Driver::ObserveAppliedLeaseRequest(const kvpb::Request& request, const WriteResult& result) {
  if (request.has_lease_grant() && result.ok()) {
    leases_.Granted(ticks_, result->lease_grant().id(), result->lease_grant().ttl());
  } else if (request.has_lease_revoke()) {
    // Gone either way: revoked now, or by an earlier entry.
    leases_.Revoked(request.lease_revoke().id());
  }
}

void Driver::MaybePromoteLessor(const raftpb::Entry& entry) {
  // The leader's own first entry of its term is applied: this member has applied everything
  // the previous leaders committed, so it knows every lease. Like etcd's Promote, each lease
  // gets its full TTL plus an election timeout from now: the old leader's clock is gone, and a
  // lease must not expire because leadership moved.
  if (role() != raft::StateRole::kLeader || entry.term() != term() || leases_.primary()) return;
  leases_.Promote(ticks_, static_cast<uint64_t>(options_.election_ticks),
                  applier_->store().Leases());
  lessor_term_ = term();
  Log(raft::LogLevel::kInfo,
      fmt::format("took over lease expiry for {} leases at term {}", leases_.size(), term()));
  std::vector<LessorWaiter> waiters = std::move(lessor_waiters_);
  lessor_waiters_.clear();
  for (LessorWaiter& w : waiters) w.run(absl::OkStatus());
}

void Driver::DemoteLessor() {
  leases_.Demote();
  std::vector<LessorWaiter> waiters = std::move(lessor_waiters_);
  lessor_waiters_.clear();
  for (LessorWaiter& w : waiters) w.run(LeaderChangedError());
}

void Driver::ExpireLeases() {
  if (!lessor_waiters_.empty()) {
    std::vector<LessorWaiter> expired;
    for (auto it = lessor_waiters_.begin(); it != lessor_waiters_.end();) {
      if (it->deadline_tick <= ticks_) {
        expired.push_back(std::move(*it));
        it = lessor_waiters_.erase(it);
      } else {
        ++it;
      }
    }
    for (LessorWaiter& w : expired) w.run(TimeoutError());
  }
  if (!leases_.primary()) return;
  const uint64_t retry_ticks = (kRevokeRetryMillis + options_.tick_millis - 1) /
                               std::max<uint64_t>(options_.tick_millis, 1);
  for (int64_t id : leases_.TakeExpired(ticks_, retry_ticks, options_.max_lease_revokes_per_tick)) {
    kvpb::Request revoke;
    revoke.mutable_lease_revoke()->set_id(id);
    Log(raft::LogLevel::kInfo, fmt::format("lease {:016x} expired; proposing its revoke", id));
    ProposeUnwaited(revoke);
  }
}

void Driver::WhenLessor(int timeout_ticks, absl::AnyInvocable<void(absl::Status)> run) {
  if (failed_) return run(StoppedError());
  if (role() != raft::StateRole::kLeader) return run(LeaderChangedError());
  if (leases_.primary()) return run(absl::OkStatus());
  if (lessor_waiters_.size() >= options_.max_pending_reads) return run(TooManyRequestsError());
  lessor_waiters_.push_back(LessorWaiter{
      .run = std::move(run), .deadline_tick = ticks_ + static_cast<uint64_t>(timeout_ticks)});
}

void Driver::RenewLease(int64_t id, int timeout_ticks, LeaseRenewDone done) {
  WhenLessor(timeout_ticks, [this, id, done = std::move(done)](absl::Status status) mutable {
    if (!status.ok()) return done(status);
    const std::optional<kv::LeaseState> lease = applier_->store().FindLease(id, false);
    if (!lease.has_value() || !leases_.Renew(ticks_, id, lease->ttl)) return done(int64_t{0});
    done(lease->ttl);
  });
}

void Driver::LeaseTimeToLive(int64_t id, bool with_keys, int timeout_ticks,
                             LeaseTimeToLiveDone done) {
  WhenLessor(timeout_ticks,
             [this, id, with_keys, done = std::move(done)](absl::Status status) mutable {
               if (!status.ok()) return done(status);
               std::optional<kv::LeaseState> lease = applier_->store().FindLease(id, with_keys);
               const std::optional<int64_t> remaining = leases_.RemainingSeconds(ticks_, id);
               if (!lease.has_value() || !remaining.has_value()) {
                 return done(kv::LeaseNotFoundError());
               }
               done(LeaseTimeToLiveResult{.id = id,
                                          .remaining_seconds = *remaining,
                                          .granted_ttl = lease->ttl,
                                          .keys = std::move(lease->keys)});
             });
}

}  // namespace raftkv::node
