// etcd's membership RPCs (MemberAdd / MemberRemove / MemberPromote / MemberUpdate) as changes
// for the node driver to propose: each checks the request against the applied member list,
// with etcd's errors and its "strict reconfiguration" rule, and says which one raft
// configuration change carries it (one member at a time, thesis §4.1).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "node/driver.h"
#include "node/member_list.h"
#include "raftkv/peerpb/peer.pb.h"

namespace raftkv::server {

// etcd's strict reconfiguration check: after the change, the started voters must still form a
// quorum of all voters, or the cluster could be left unable to commit (for example, adding two
// members that never start to a cluster of three). `extra_voter` counts a member about to
// become a voter (`extra_started`: one that already runs); `leaving` excludes one about to go.
bool StartedVotersKeepQuorum(const std::vector<peerpb::Member>& members, bool extra_voter,
                             bool extra_started, uint64_t leaving);

struct PlannedAdd {
  // The new member: its id, peer URLs and learner flag (no name until it starts).
  peerpb::Member member;
  node::MembershipChange change;
};

// The member gets an id from its peer URLs, the cluster and `now`, so that a member removed and
// added again with the same URLs gets a new id (raft must never see a removed id come back).
absl::StatusOr<PlannedAdd> PlanAddMember(const node::MemberList& members,
                                         const std::vector<std::string>& peer_urls, bool is_learner,
                                         uint64_t cluster_id, absl::Time now);
absl::StatusOr<node::MembershipChange> PlanRemoveMember(const node::MemberList& members,
                                                        uint64_t id);
// The change is refused by the leader unless the learner's log has caught up.
absl::StatusOr<node::MembershipChange> PlanPromoteMember(const node::MemberList& members,
                                                         uint64_t id);
absl::StatusOr<node::MembershipChange> PlanUpdateMember(const node::MemberList& members,
                                                        uint64_t id,
                                                        const std::vector<std::string>& peer_urls);

}  // namespace raftkv::server
