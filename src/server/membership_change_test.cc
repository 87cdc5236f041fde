#include "server/membership_change.h"

#include <gtest/gtest.h>

#include "server/etcd/backend.h"

namespace raftkv::server {
namespace {

peerpb::Member Started(uint64_t id, const std::string& peer_url, bool learner = false) {
  peerpb::Member m;
  m.set_id(id);
  m.set_name(absl::StrCat("n", id));
  m.add_peer_urls(peer_url);
  m.set_is_learner(learner);
  return m;
}

peerpb::Member Unstarted(uint64_t id, const std::string& peer_url) {
  peerpb::Member m = Started(id, peer_url);
  m.clear_name();
  return m;
}

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

TEST(MembershipChangeTest, AddingAVoterProposesAddNodeWithTheNewMemberInItsContext) {
  node::MemberList members({Started(1, "http://a:2380")});
  absl::StatusOr<PlannedAdd> plan =
      PlanAddMember(members, {"http://b:2380"}, /*is_learner=*/false, 9, kNow);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->change.change.change_type(), raftpb::CONF_CHANGE_ADD_NODE);
  EXPECT_EQ(plan->change.change.node_id(), plan->member.id());
  peerpb::Member carried;
  ASSERT_TRUE(carried.ParseFromString(plan->change.change.context()));
  EXPECT_EQ(carried.peer_urls(0), "http://b:2380");
  EXPECT_FALSE(plan->change.require_learner_caught_up);
}

TEST(MembershipChangeTest, AMemberAddedAgainWithTheSameUrlsGetsANewId) {
  node::MemberList members({Started(1, "http://a:2380")});
  absl::StatusOr<PlannedAdd> first = PlanAddMember(members, {"http://b:2380"}, true, 9, kNow);
  ASSERT_TRUE(first.ok());
  members.Add(first->member);
  members.Remove(first->member.id());
  absl::StatusOr<PlannedAdd> again = PlanAddMember(members, {"http://b:2380"}, true, 9, kNow);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->member.id(), first->member.id());
}

TEST(MembershipChangeTest, RefusesWhatEtcdRefuses) {
  node::MemberList members({Started(1, "http://a:2380"), Started(2, "http://b:2380"),
                            Unstarted(3, "http://c:2380"), Started(4, "http://d:2380", true)});
  EXPECT_EQ(PlanAddMember(members, {}, false, 9, kNow).status(), etcd::InvalidMemberUrlsError());
  EXPECT_EQ(PlanAddMember(members, {"ftp://x"}, false, 9, kNow).status(),
            etcd::InvalidMemberUrlsError());
  EXPECT_EQ(PlanAddMember(members, {"http://a:2380"}, true, 9, kNow).status(),
            etcd::PeerUrlExistsError());
  // Two started voters of four would not be a quorum.
  EXPECT_EQ(PlanAddMember(members, {"http://e:2380"}, false, 9, kNow).status(),
            etcd::NotEnoughStartedError());
  EXPECT_TRUE(PlanAddMember(members, {"http://e:2380"}, true, 9, kNow).ok());
  EXPECT_EQ(PlanRemoveMember(members, 42).status(), etcd::MemberNotFoundError());
  EXPECT_EQ(PlanRemoveMember(members, 1).status(), etcd::NotEnoughStartedError());
  EXPECT_TRUE(PlanRemoveMember(members, 3).ok());
  EXPECT_EQ(PlanPromoteMember(members, 2).status(), etcd::MemberNotLearnerError());
  EXPECT_EQ(PlanUpdateMember(members, 1, {"http://b:2380"}).status(), etcd::PeerUrlExistsError());
  EXPECT_EQ(PlanUpdateMember(members, 42, {"http://z:2380"}).status(), etcd::MemberNotFoundError());
}

TEST(MembershipChangeTest, APromotionWaitsForTheLearnerToCatchUp) {
  node::MemberList members({Started(1, "http://a:2380"), Started(4, "http://d:2380", true)});
  absl::StatusOr<node::MembershipChange> change = PlanPromoteMember(members, 4);
  ASSERT_TRUE(change.ok()) << change.status();
  EXPECT_EQ(change->change.change_type(), raftpb::CONF_CHANGE_ADD_NODE);
  EXPECT_TRUE(change->require_learner_caught_up);
  peerpb::Member carried;
  ASSERT_TRUE(carried.ParseFromString(change->change.context()));
  EXPECT_FALSE(carried.is_learner());
}

TEST(MembershipChangeTest, GrowingAOneMemberClusterIsAllowed) {
  EXPECT_TRUE(StartedVotersKeepQuorum({Started(1, "http://a:2380")}, /*extra_voter=*/true,
                                      /*extra_started=*/false, /*leaving=*/0));
}

}  // namespace
}  // namespace raftkv::server
