#include "server/membership_change.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "server/etcd/backend.h"
#include "server/membership.h"
#include "server/url.h"

namespace raftkv::server {
namespace {

bool IsStarted(const peerpb::Member& m) { return !m.name().empty(); }

absl::Status ValidatePeerUrls(const std::vector<std::string>& peer_urls) {
  if (peer_urls.empty()) return etcd::InvalidMemberUrlsError();
  for (const std::string& url : peer_urls) {
    if (!ParseUrl(url).ok()) return etcd::InvalidMemberUrlsError();
  }
  return absl::OkStatus();
}

node::MembershipChange MakeChange(raftpb::ConfChangeType type, const peerpb::Member& member) {
  node::MembershipChange change;
  change.change.set_change_type(type);
  change.change.set_node_id(member.id());
  change.change.set_context(member.SerializeAsString());
  return change;
}

}  // namespace

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

absl::StatusOr<PlannedAdd> PlanAddMember(const node::MemberList& members,
                                         const std::vector<std::string>& peer_urls, bool is_learner,
                                         uint64_t cluster_id, absl::Time now) {
  if (absl::Status s = ValidatePeerUrls(peer_urls); !s.ok()) return s;
  if (members.FindByPeerUrl(peer_urls).has_value()) return etcd::PeerUrlExistsError();
  if (!is_learner && !StartedVotersKeepQuorum(members.List(), /*extra_voter=*/true,
                                              /*extra_started=*/false, /*leaving=*/0)) {
    return etcd::NotEnoughStartedError();
  }
  PlannedAdd plan;
  std::string salt = absl::StrCat(cluster_id, "/", absl::ToUnixNanos(now));
  do {
    plan.member.set_id(ComputeMemberId(peer_urls, salt));
    salt += "+";
  } while (members.Contains(plan.member.id()) || members.WasRemoved(plan.member.id()));
  for (const std::string& url : peer_urls) plan.member.add_peer_urls(url);
  plan.member.set_is_learner(is_learner);
  plan.change =
      MakeChange(is_learner ? raftpb::CONF_CHANGE_ADD_LEARNER_NODE : raftpb::CONF_CHANGE_ADD_NODE,
                 plan.member);
  return plan;
}

absl::StatusOr<node::MembershipChange> PlanRemoveMember(const node::MemberList& members,
                                                        uint64_t id) {
  std::optional<peerpb::Member> member = members.Find(id);
  if (!member.has_value()) return etcd::MemberNotFoundError();
  if (!member->is_learner() && !StartedVotersKeepQuorum(members.List(), /*extra_voter=*/false,
                                                        /*extra_started=*/false, /*leaving=*/id)) {
    return etcd::NotEnoughStartedError();
  }
  return MakeChange(raftpb::CONF_CHANGE_REMOVE_NODE, *member);
}

absl::StatusOr<node::MembershipChange> PlanPromoteMember(const node::MemberList& members,
                                                         uint64_t id) {
  std::optional<peerpb::Member> member = members.Find(id);
  if (!member.has_value()) return etcd::MemberNotFoundError();
  if (!member->is_learner()) return etcd::MemberNotLearnerError();
  if (!StartedVotersKeepQuorum(members.List(), /*extra_voter=*/true,
                               /*extra_started=*/true, /*leaving=*/0)) {
    return etcd::NotEnoughStartedError();
  }
  member->set_is_learner(false);
  node::MembershipChange change = MakeChange(raftpb::CONF_CHANGE_ADD_NODE, *member);
  change.require_learner_caught_up = true;
  return change;
}

absl::StatusOr<node::MembershipChange> PlanUpdateMember(const node::MemberList& members,
                                                        uint64_t id,
                                                        const std::vector<std::string>& peer_urls) {
  if (absl::Status s = ValidatePeerUrls(peer_urls); !s.ok()) return s;
  std::optional<peerpb::Member> member = members.Find(id);
  if (!member.has_value()) return etcd::MemberNotFoundError();
  std::optional<peerpb::Member> owner = members.FindByPeerUrl(peer_urls);
  if (owner.has_value() && owner->id() != id) return etcd::PeerUrlExistsError();
  member->clear_peer_urls();
  for (const std::string& url : peer_urls) member->add_peer_urls(url);
  return MakeChange(raftpb::CONF_CHANGE_UPDATE_NODE, *member);
}

}  // namespace raftkv::server
