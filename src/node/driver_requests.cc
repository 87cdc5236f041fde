// The node driver's writes: proposals batched per Process(), waiters keyed by proposer and
// request id, deadlines in ticks, membership changes and attribute announcements.
#include <utility>

#include "fmt/format.h"
#include "kv/errors.h"
#include "node/driver.h"
#include "node/errors.h"
#include "raftkv/peerpb/peer.pb.h"

namespace raftkv::node {
namespace {

// A learner may be promoted once its log holds at least this share of the leader's (etcd's rule).
constexpr double kLearnerCaughtUpRatio = 0.9;

}  // namespace

void Driver::Write(kvpb::Request request, int timeout_ticks, WriteDone done) {
  if (failed_) return done(StoppedError());
  if (leader() == 0) return done(NoLeaderError());
  if (writes_.size() >= options_.max_pending_writes ||
      hard_state_.commit() > applier_->applied_index() + options_.max_apply_backlog) {
    return done(TooManyRequestsError());
  }
  if (ExceedsQuota(request)) {
    RaiseNoSpaceAlarm();
    return done(kv::NoSpaceError());
  }
  if (request.has_lease_grant()) PrepareLeaseGrant(request);
  const uint64_t id = NextRequestId();
  request.set_id(id);
  peerpb::Proposal proposal;
  proposal.set_request_id(id);
  proposal.set_proposer(options_.id);
  proposal.set_kv_request(request.SerializeAsString());
  batch_.push_back(proposal.SerializeAsString());
  batch_ids_.push_back(id);
  writes_.emplace(id, WriteWaiter{.done = std::move(done),
                                  .deadline_tick = ticks_ + static_cast<uint64_t>(timeout_ticks),
                                  .leader = leader(),
                                  .term = term()});
}

void Driver::ProposeBatch() {
  if (batch_.empty()) return;
  std::vector<std::string> batch = std::move(batch_);
  std::vector<uint64_t> ids = std::move(batch_ids_);
  batch_.clear();
  batch_ids_.clear();
  if (base::Histogram* h = options_.metrics.writes_per_proposal; h != nullptr) {
    h->Observe(static_cast<double>(batch.size()));
  }
  // All of them go into the same Ready: one append, one sync, one message per follower.
  absl::Status s = raw_->ProposeBatch(std::move(batch));
  if (s.ok()) return;
  // Never appended: the callers may retry safely.
  const absl::Status why = leader() == 0 ? NoLeaderError() : LeaderChangedError();
  for (uint64_t id : ids) CompleteWrite(id, why);
}

void Driver::CompleteWrite(uint64_t id, WriteResult result) {
  auto it = writes_.find(id);
  if (it == writes_.end()) return;  // proposed before a restart, or already timed out
  WriteDone done = std::move(it->second.done);
  writes_.erase(it);
  done(std::move(result));
}

void Driver::ExpireWrites() {
  std::vector<uint64_t> expired;
  for (const auto& [id, w] : writes_) {
    if (w.deadline_tick <= ticks_) expired.push_back(id);
  }
  for (uint64_t id : expired) {
    const WriteWaiter& w = writes_.at(id);
    // The entry was proposed: it may still commit, so the answer must not say it was not
    // (etcd's clients retry "no leader" as never proposed).
    const bool leader_failed = w.leader == 0 || w.leader != leader() || w.term != term();
    CompleteWrite(id, leader_failed ? TimeoutDueToLeaderFailError() : TimeoutError());
  }
}

void Driver::ChangeMembership(MembershipChange change, int timeout_ticks, WriteDone done) {
  if (failed_) return done(StoppedError());
  if (role() != raft::StateRole::kLeader) return done(LeaderChangedError());
  if (writes_.size() >= options_.max_pending_writes) return done(TooManyRequestsError());
  if (change.require_learner_caught_up) {
    const raft::Status status = raw_->GetStatus();
    auto learner = status.progress.find(change.change.node_id());
    auto self = status.progress.find(options_.id);
    if (learner == status.progress.end() || self == status.progress.end() ||
        static_cast<double>(learner->second.match) <
            static_cast<double>(self->second.match) * kLearnerCaughtUpRatio) {
      return done(LearnerNotReadyError());
    }
  }
  const uint64_t id = NextRequestId();
  change.change.set_id(id);
  if (absl::Status s = raw_->ProposeConfChange(change.change); !s.ok()) {
    Log(raft::LogLevel::kInfo,
        fmt::format("membership change refused: {}", std::string(s.message())));
    return done(s.code() == absl::StatusCode::kFailedPrecondition ? ChangeInProgressError()
                                                                  : LeaderChangedError());
  }
  writes_.emplace(id, WriteWaiter{.done = std::move(done),
                                  .deadline_tick = ticks_ + static_cast<uint64_t>(timeout_ticks),
                                  .leader = leader(),
                                  .term = term(),
                                  .change_node = change.change.node_id()});
}

void Driver::MaybePublishAttributes() {
  // Like etcd, a member announces its name and client URLs through the log once it has a
  // leader, so that every member's member list shows them.
  if (attributes_published_ || options_.name.empty() || leader() == 0) return;
  if (ticks_ < next_publish_tick_) return;
  next_publish_tick_ = ticks_ + static_cast<uint64_t>(options_.publish_retry_ticks);
  peerpb::Proposal proposal;
  proposal.set_request_id(NextRequestId());
  proposal.set_proposer(options_.id);
  peerpb::Member* attributes = proposal.mutable_member_attributes();
  attributes->set_id(options_.id);
  attributes->set_name(options_.name);
  for (const std::string& url : options_.client_urls) attributes->add_client_urls(url);
  (void)raw_->Propose(proposal.SerializeAsString());
}

}  // namespace raftkv::node
