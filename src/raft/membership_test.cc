// Membership-change rules of the core (paper §6, thesis §4): one pending change at a time
// with clear errors, joint consensus entered and left, a removed leader stepping down, and
// learners. The golden scenarios show whole runs; these pin each rule on its own.
#include "gtest/gtest.h"
#include "raft/testing/cluster.h"

namespace raftkv::raft {
namespace {

using testing::Cluster;

raftpb::ConfChangeSingle Single(raftpb::ConfChangeType type, uint64_t id) {
  raftpb::ConfChangeSingle c;
  c.set_change_type(type);
  c.set_node_id(id);
  return c;
}

raftpb::ConfChange Simple(raftpb::ConfChangeType type, uint64_t id) {
  raftpb::ConfChange c;
  c.set_change_type(type);
  c.set_node_id(id);
  return c;
}

// A stable 3-node cluster led by node 1.
std::unique_ptr<Cluster> LedCluster(int nodes = 3) {
  auto c = std::make_unique<Cluster>();
  c->AddNodes(nodes);
  EXPECT_TRUE(c->Campaign(1).ok());
  c->Stabilize();
  EXPECT_EQ(c->Leader(), 1u);
  return c;
}

TEST(MembershipTest, SecondChangeWhileFirstIsUnappliedIsRefused_Thesis4_1) {
  auto c = LedCluster();
  // Keep the first change from committing.
  c->Isolate(1);
  ASSERT_TRUE(c->ProposeConfChange(1, Simple(raftpb::CONF_CHANGE_ADD_LEARNER_NODE, 4)).ok());
  const absl::Status s = c->ProposeConfChange(1, Simple(raftpb::CONF_CHANGE_ADD_LEARNER_NODE, 5));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("not yet applied"), absl::string_view::npos) << s;
}

TEST(MembershipTest, NextChangeIsAcceptedOnceThePreviousIsApplied_Thesis4_1) {
  auto c = LedCluster();
  ASSERT_TRUE(c->ProposeConfChange(1, Simple(raftpb::CONF_CHANGE_ADD_LEARNER_NODE, 4)).ok());
  c->Stabilize();
  EXPECT_TRUE(c->ProposeConfChange(1, Simple(raftpb::CONF_CHANGE_ADD_LEARNER_NODE, 5)).ok());
}

TEST(MembershipTest, MultiChangeEntersJointAndLeavesAutomatically_Thesis4_3) {
  auto c = LedCluster();
  raftpb::ConfChangeV2 cc;
  *cc.add_changes() = Single(raftpb::CONF_CHANGE_ADD_LEARNER_NODE, 4);
  *cc.add_changes() = Single(raftpb::CONF_CHANGE_REMOVE_NODE, 3);
  ASSERT_TRUE(c->ProposeConfChange(1, cc).ok());
  c->Stabilize();
  const raftpb::ConfState cs = c->status(1).conf_state;
  EXPECT_EQ(cs.voters_outgoing_size(), 0) << "the joint configuration was not left";
  EXPECT_EQ(cs.voters_size(), 2);
  EXPECT_EQ(cs.learners_size(), 1);
  EXPECT_FALSE(cs.auto_leave());
}

TEST(MembershipTest, ExplicitJointStaysUntilAnEmptyChange_Thesis4_3) {
  auto c = LedCluster();
  raftpb::ConfChangeV2 cc;
  cc.set_transition(raftpb::CONF_CHANGE_TRANSITION_JOINT_EXPLICIT);
  *cc.add_changes() = Single(raftpb::CONF_CHANGE_REMOVE_NODE, 3);
  ASSERT_TRUE(c->ProposeConfChange(1, cc).ok());
  c->Stabilize();
  EXPECT_EQ(c->status(1).conf_state.voters_outgoing_size(), 3);

  // While joint, only the empty change that leaves is accepted.
  raftpb::ConfChangeV2 another;
  *another.add_changes() = Single(raftpb::CONF_CHANGE_ADD_LEARNER_NODE, 4);
  EXPECT_EQ(c->ProposeConfChange(1, another).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(c->ProposeConfChange(1, raftpb::ConfChangeV2()).ok());
  c->Stabilize();
  EXPECT_EQ(c->status(1).conf_state.voters_outgoing_size(), 0);
  EXPECT_EQ(c->status(1).conf_state.voters_size(), 2);
}

TEST(MembershipTest, EmptyChangeOutsideJointIsRefused) {
  auto c = LedCluster();
  EXPECT_EQ(c->ProposeConfChange(1, raftpb::ConfChangeV2()).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(MembershipTest, JointCommitNeedsBothMajorities_Paper6) {
  auto c = LedCluster(5);
  // Move from (1 2 3 4 5) to (1 2 3) explicitly, and stay joint.
  raftpb::ConfChangeV2 cc;
  cc.set_transition(raftpb::CONF_CHANGE_TRANSITION_JOINT_EXPLICIT);
  *cc.add_changes() = Single(raftpb::CONF_CHANGE_REMOVE_NODE, 4);
  *cc.add_changes() = Single(raftpb::CONF_CHANGE_REMOVE_NODE, 5);
  ASSERT_TRUE(c->ProposeConfChange(1, cc).ok());
  c->Stabilize();
  ASSERT_EQ(c->status(1).conf_state.voters_outgoing_size(), 5);
  // {1, 2} is a majority of the incoming half (1 2 3) but only 2 of 5 in the outgoing one.
  c->Partition({{1, 2}, {3, 4, 5}});
  const uint64_t before = c->status(1).hard_state.commit();
  ASSERT_TRUE(c->Propose(1, "x").ok());
  c->Stabilize();
  EXPECT_EQ(c->status(1).hard_state.commit(), before);
  c->Heal();
  c->TickAll(2);  // heartbeats let the leader retry
  c->Stabilize();
  EXPECT_GT(c->status(1).hard_state.commit(), before);
}

TEST(MembershipTest, RemovedLeaderLeadsUntilTheChangeCommitsThenStepsDown_Thesis4_2_2) {
  auto c = LedCluster();
  ASSERT_TRUE(c->ProposeConfChange(1, Simple(raftpb::CONF_CHANGE_REMOVE_NODE, 1)).ok());
  // Before the change commits the leader still leads.
  EXPECT_EQ(c->role(1), StateRole::kLeader);
  c->Stabilize();
  EXPECT_NE(c->role(1), StateRole::kLeader);
  // The remaining voters elect a leader among themselves.
  for (int i = 0; i < 50 && c->Leader() == 0; ++i) {
    c->TickAll();
    c->Stabilize();
  }
  const uint64_t leader = c->Leader();
  EXPECT_TRUE(leader == 2 || leader == 3) << "leader " << leader;
}

TEST(MembershipTest, LearnerNeverCampaigns_Thesis4_2_1) {
  Cluster c;
  testing::NodeSetup voter;
  voter.voters = {1};
  voter.learners = {2};
  c.AddNode(1, voter);
  c.AddNode(2, voter);
  c.Tick(2, 100);
  EXPECT_EQ(c.role(2), StateRole::kFollower);
  EXPECT_TRUE(c.Pending([](const raftpb::Message& m) { return m.from() == 2; }).empty());
}

TEST(MembershipTest, LearnerReceivesTheLogButDoesNotCountForCommit_Thesis4_2_1) {
  Cluster c;
  testing::NodeSetup setup;
  setup.voters = {1, 2};
  setup.learners = {3};
  for (uint64_t id : {1, 2, 3}) c.AddNode(id, setup);
  ASSERT_TRUE(c.Campaign(1).ok());
  c.Stabilize();
  ASSERT_EQ(c.Leader(), 1u);
  ASSERT_TRUE(c.Propose(1, "replicated").ok());
  c.Stabilize();
  EXPECT_EQ(c.AppliedData(3), std::vector<std::string>{"replicated"});
  // With the other voter gone, the learner's acknowledgement does not make a quorum.
  c.Isolate(2);
  const uint64_t before = c.status(1).hard_state.commit();
  ASSERT_TRUE(c.Propose(1, "stuck").ok());
  c.Stabilize();
  EXPECT_EQ(c.status(1).hard_state.commit(), before);
}

TEST(MembershipTest, PromotedLearnerVotes_Thesis4_2_1) {
  Cluster c;
  testing::NodeSetup setup;
  setup.voters = {1};
  setup.learners = {2};
  for (uint64_t id : {1, 2}) c.AddNode(id, setup);
  ASSERT_TRUE(c.Campaign(1).ok());
  c.Stabilize();
  ASSERT_TRUE(c.ProposeConfChange(1, Simple(raftpb::CONF_CHANGE_ADD_NODE, 2)).ok());
  c.Stabilize();
  EXPECT_EQ(c.status(2).conf_state.voters_size(), 2);
  EXPECT_FALSE(c.status(1).progress.at(2).is_learner);
}

}  // namespace
}  // namespace raftkv::raft
