// Membership changes of Node: etcd's MemberAdd / MemberRemove / MemberPromote / MemberUpdate,
// each one raft configuration change (one member at a time, thesis §4.1).
//
// A change runs on the leader: a gRPC thread validates it against the applied membership (with
// etcd's "strict reconfiguration" checks), the raft thread proposes it, the raft thread makes
// the transport follow it once committed (so the leader can reach a new member at once), and the
// apply thread updates the member list and answers the caller when it is applied.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "raftkv/peerpb/peer.pb.h"
#include "server/node.h"
#include "server/url.h"

namespace raftkv::server {
namespace {

// A learner may be promoted once its log holds at least this share of the leader's (etcd's rule).
constexpr double kLearnerCaughtUpRatio = 0.9;

bool IsStarted(const peerpb::Member& m) { return !m.name().empty(); }

// etcd's strict reconfiguration check: after the change, the started voters must still form a
// quorum of all voters, or the cluster could be left unable to commit (for example, adding two
// members that never start to a cluster of three). `extra_voter` counts a member about to
// become a voter; `leaving` excludes one about to go.
bool StartedVotersKeepQuorum(const std::vector<peerpb::Member>& members, bool extra_voter,
                             bool extra_started, uint64_t leaving) {
  size_t voters = extra_voter ? 1 : 0;
  size_t started = extra_started ? 1 : 0;
  for (const peerpb::Member& m : members) {
    if (m.is_learner() || m.id() == leaving) continue;
    ++voters;
    if (IsStarted(m)) ++started;
  }
  // Growing a one-member cluster (restoring a cluster from one member's data) is allowed.
  if (extra_voter && !extra_started && voters == 2 && started == 1) return true;
  return started >= voters / 2 + 1;
}

absl::Status ValidatePeerUrls(const std::vector<std::string>& peer_urls) {
  if (peer_urls.empty()) return etcd::InvalidMemberUrlsError();
  for (const std::string& url : peer_urls) {
    if (!ParseUrl(url).ok()) return etcd::InvalidMemberUrlsError();
  }
  return absl::OkStatus();
}

raftpb::ConfChange MakeChange(raftpb::ConfChangeType type, const peerpb::Member& member) {
  raftpb::ConfChange change;
  change.set_change_type(type);
  change.set_node_id(member.id());
  change.set_context(member.SerializeAsString());
  return change;
}

}  // namespace

absl::StatusOr<etcd::MemberInfo> Node::AddMember(const std::vector<std::string>& peer_urls,
                                                 bool is_learner, absl::Time deadline) {
  if (stopped_.load()) return etcd::StoppedError();
  if (!IsLeader()) return etcd::NotLeaderError();
  if (absl::Status s = ValidatePeerUrls(peer_urls); !s.ok()) return s;
  if (membership_->FindByPeerUrl(peer_urls).has_value()) return etcd::PeerUrlExistsError();
  const std::vector<peerpb::Member> members = membership_->List();
  if (!is_learner && !StartedVotersKeepQuorum(members, /*extra_voter=*/true,
                                              /*extra_started=*/false, /*leaving=*/0)) {
    return etcd::NotEnoughStartedError();
  }
  // Like etcd, the id mixes in the time, so that a member removed and added again with the same
  // URLs gets a new id (raft must never see a removed id come back).
  peerpb::Member member;
  std::string salt = absl::StrCat(membership_->cluster_id(), "/", absl::ToUnixNanos(absl::Now()));
  do {
    member.set_id(ComputeMemberId(peer_urls, salt));
    salt += "+";
  } while (membership_->Contains(member.id()));
  for (const std::string& url : peer_urls) member.add_peer_urls(url);
  member.set_is_learner(is_learner);
  MembershipProposal proposal;
  proposal.change = MakeChange(
      is_learner ? raftpb::CONF_CHANGE_ADD_LEARNER_NODE : raftpb::CONF_CHANGE_ADD_NODE, member);
  if (absl::Status s = ChangeMembership(std::move(proposal), deadline); !s.ok()) return s;
  log_.info("added {} {:x} with peer URLs {}", is_learner ? "learner" : "member", member.id(),
            peer_urls.front());
  return ToMemberInfo(member);
}

absl::Status Node::RemoveMember(uint64_t id, absl::Time deadline) {
  if (stopped_.load()) return etcd::StoppedError();
  if (!IsLeader()) return etcd::NotLeaderError();
  std::optional<peerpb::Member> member = membership_->Find(id);
  if (!member.has_value()) return etcd::MemberNotFoundError();
  if (!member->is_learner() && !StartedVotersKeepQuorum(membership_->List(), /*extra_voter=*/false,
                                                        /*extra_started=*/false, /*leaving=*/id)) {
    return etcd::NotEnoughStartedError();
  }
  MembershipProposal proposal;
  proposal.change = MakeChange(raftpb::CONF_CHANGE_REMOVE_NODE, *member);
  return ChangeMembership(std::move(proposal), deadline);
}

absl::Status Node::PromoteMember(uint64_t id, absl::Time deadline) {
  if (stopped_.load()) return etcd::StoppedError();
  if (!IsLeader()) return etcd::NotLeaderError();
  std::optional<peerpb::Member> member = membership_->Find(id);
  if (!member.has_value()) return etcd::MemberNotFoundError();
  if (!member->is_learner()) return etcd::MemberNotLearnerError();
  if (!StartedVotersKeepQuorum(membership_->List(), /*extra_voter=*/true,
                               /*extra_started=*/true, /*leaving=*/0)) {
    return etcd::NotEnoughStartedError();
  }
  member->set_is_learner(false);
  MembershipProposal proposal;
  proposal.change = MakeChange(raftpb::CONF_CHANGE_ADD_NODE, *member);
  proposal.require_learner_caught_up = true;
  return ChangeMembership(std::move(proposal), deadline);
}

absl::Status Node::UpdateMember(uint64_t id, const std::vector<std::string>& peer_urls,
                                absl::Time deadline) {
  if (stopped_.load()) return etcd::StoppedError();
  if (!IsLeader()) return etcd::NotLeaderError();
  if (absl::Status s = ValidatePeerUrls(peer_urls); !s.ok()) return s;
  std::optional<peerpb::Member> member = membership_->Find(id);
  if (!member.has_value()) return etcd::MemberNotFoundError();
  std::optional<peerpb::Member> owner = membership_->FindByPeerUrl(peer_urls);
  if (owner.has_value() && owner->id() != id) return etcd::PeerUrlExistsError();
  member->clear_peer_urls();
  for (const std::string& url : peer_urls) member->add_peer_urls(url);
  MembershipProposal proposal;
  proposal.change = MakeChange(raftpb::CONF_CHANGE_UPDATE_NODE, *member);
  return ChangeMembership(std::move(proposal), deadline);
}

absl::Status Node::MoveLeader(uint64_t target, absl::Time deadline) {
  if (stopped_.load()) return etcd::StoppedError();
  if (!IsLeader()) return etcd::NotLeaderError();
  std::optional<peerpb::Member> member = membership_->Find(target);
  if (!member.has_value() || member->is_learner()) return etcd::BadLeaderTransfereeError();
  if (target == membership_->local_id()) return absl::OkStatus();
  {
    absl::MutexLock lock(&inbox_mu_);
    if (stopping_) return etcd::StoppedError();
    inbox_.transfer_leader_to = target;
  }
  // The transfer ends with the target's election (a MsgTimeoutNow, §3.10); the soft state then
  // names it. A transfer that does not finish within an election timeout is abandoned by the
  // core, and the caller sees a timeout.
  while (absl::Now() < deadline) {
    if (leader_id_.load() == target) return absl::OkStatus();
    if (stopped_.load()) return etcd::StoppedError();
    absl::SleepFor(absl::Milliseconds(10));
  }
  return etcd::TimeoutError();
}

absl::Status Node::ChangeMembership(MembershipProposal proposal, absl::Time deadline) {
  const uint64_t id = NextRequestId();
  proposal.change.set_id(id);
  std::future<WriteResult> result = write_waiters_.Register(id);
  {
    absl::MutexLock lock(&inbox_mu_);
    if (stopping_) {
      write_waiters_.Forget(id);
      return etcd::StoppedError();
    }
    inbox_.membership_changes.push_back(std::move(proposal));
  }
  return AwaitApplied(id, std::move(result), deadline).status();
}

void Node::ProposeMembershipChange(MembershipProposal proposal) {
  const uint64_t id = proposal.change.id();
  if (!IsLeader()) {
    write_waiters_.Complete(id, etcd::LeaderChangedError());
    return;
  }
  if (proposal.require_learner_caught_up) {
    const raft::Status status = raw_node_->GetStatus();
    auto learner = status.progress.find(proposal.change.node_id());
    auto leader = status.progress.find(membership_->local_id());
    if (learner == status.progress.end() || leader == status.progress.end() ||
        static_cast<double>(learner->second.match) <
            static_cast<double>(leader->second.match) * kLearnerCaughtUpRatio) {
      write_waiters_.Complete(id, etcd::LearnerNotReadyError());
      return;
    }
  }
  if (absl::Status s = raw_node_->ProposeConfChange(proposal.change); !s.ok()) {
    log_.info("membership change refused: {}", std::string(s.message()));
    write_waiters_.Complete(id, s.code() == absl::StatusCode::kFailedPrecondition
                                    ? etcd::ChangeInProgressError()
                                    : etcd::LeaderChangedError());
  }
}

void Node::FollowMembershipChange(const raftpb::ConfChange& change) {
  if (change.node_id() == membership_->local_id()) return;
  if (change.change_type() == raftpb::CONF_CHANGE_REMOVE_NODE) {
    transport_->RemovePeer(change.node_id());
    return;
  }
  peerpb::Member member;
  if (!member.ParseFromString(change.context())) return;
  if (absl::Status s = ConnectPeer(member, *transport_); !s.ok()) {
    log_.error("cannot reach member {:x}: {}", member.id(), std::string(s.message()));
  }
}

void Node::ApplyMembershipChange(const raftpb::ConfChange& change) {
  peerpb::Member member;
  if (!member.ParseFromString(change.context())) {
    log_.error("membership change for {:x} carries no member; the member list may be stale",
               change.node_id());
  } else if (change.change_type() == raftpb::CONF_CHANGE_REMOVE_NODE) {
    membership_->Remove(change.node_id());
  } else {
    membership_->Add(member);
  }
  if (change.id() != 0) write_waiters_.Complete(change.id(), kvpb::Response());
  if (change.change_type() == raftpb::CONF_CHANGE_REMOVE_NODE &&
      change.node_id() == membership_->local_id()) {
    LeaveRemoved("it applied its own removal");
  }
}

void Node::ReportRemovedFromCluster(uint64_t peer_id) {
  LeaveRemoved(fmt::format("member {:x} refuses its traffic as a removed member's", peer_id));
}

void Node::LeaveRemoved(const std::string& why) {
  if (removed_.exchange(true)) return;
  log_.warn("this member was removed from the cluster ({}); shutting down", why);
  if (options_.on_removed) options_.on_removed();
}

}  // namespace raftkv::server
