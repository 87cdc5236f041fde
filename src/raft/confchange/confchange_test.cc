#include "raft/confchange/confchange.h"

#include "gtest/gtest.h"

namespace raftkv::raft::confchange {
namespace {

raftpb::ConfChangeSingle Add(uint64_t id) {
  raftpb::ConfChangeSingle c;
  c.set_change_type(raftpb::CONF_CHANGE_ADD_NODE);
  c.set_node_id(id);
  return c;
}
raftpb::ConfChangeSingle AddLearner(uint64_t id) {
  raftpb::ConfChangeSingle c;
  c.set_change_type(raftpb::CONF_CHANGE_ADD_LEARNER_NODE);
  c.set_node_id(id);
  return c;
}
raftpb::ConfChangeSingle Remove(uint64_t id) {
  raftpb::ConfChangeSingle c;
  c.set_change_type(raftpb::CONF_CHANGE_REMOVE_NODE);
  c.set_node_id(id);
  return c;
}

class ChangerTest : public ::testing::Test {
 protected:
  // Applies the result to the tracker, as Raft does.
  void Install(absl::StatusOr<ChangeResult> r) {
    ASSERT_TRUE(r.ok()) << r.status();
    trk_.config() = r->config;
    trk_.progress() = r->progress;
  }
  std::string Config() const { return trk_.config().String(); }

  tracker::ProgressTracker trk_{16, 0};
  uint64_t last_index_ = 10;
};

TEST_F(ChangerTest, SimpleAddsVotersOneAtATime) {
  Install(Changer(trk_, last_index_).Simple({Add(1)}));
  Install(Changer(trk_, last_index_).Simple({Add(2)}));
  EXPECT_EQ(Config(), "voters=(1 2)");
  EXPECT_EQ(trk_.progress().at(2).next(), 10u);
  EXPECT_EQ(trk_.progress().at(2).match(), 0u);
}

TEST_F(ChangerTest, SimpleRefusesChangingTwoVoters) {
  Install(Changer(trk_, last_index_).Simple({Add(1)}));
  auto r = Changer(trk_, last_index_).Simple({Add(2), Add(3)});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ChangerTest, SimpleMayAddLearnersAlongsideOneVoter) {
  Install(Changer(trk_, last_index_).Simple({Add(1)}));
  Install(Changer(trk_, last_index_).Simple({Add(2), AddLearner(3), AddLearner(4)}));
  EXPECT_EQ(Config(), "voters=(1 2) learners=(3 4)");
}

TEST_F(ChangerTest, RemovingTheLastVoterIsRefused) {
  Install(Changer(trk_, last_index_).Simple({Add(1)}));
  EXPECT_FALSE(Changer(trk_, last_index_).Simple({Remove(1)}).ok());
}

TEST_F(ChangerTest, PromotingALearnerKeepsItsProgress) {
  Install(Changer(trk_, last_index_).Simple({Add(1)}));
  Install(Changer(trk_, last_index_).Simple({AddLearner(2)}));
  trk_.progress().at(2).MaybeUpdate(7);
  Install(Changer(trk_, last_index_).Simple({Add(2)}));
  EXPECT_EQ(Config(), "voters=(1 2)");
  EXPECT_EQ(trk_.progress().at(2).match(), 7u);
  EXPECT_FALSE(trk_.progress().at(2).is_learner());
}

TEST_F(ChangerTest, EnterJointKeepsTheOldVotersAsOutgoing) {
  Install(Changer(trk_, last_index_).Simple({Add(1)}));
  Install(Changer(trk_, last_index_).Simple({Add(2)}));
  Install(Changer(trk_, last_index_).Simple({Add(3)}));
  Install(Changer(trk_, last_index_).EnterJoint(true, {Remove(1), Add(4), Add(5)}));
  EXPECT_EQ(Config(), "voters=(2 3 4 5)&&(1 2 3) autoleave");
  // The removed voter keeps its progress: it still votes in the outgoing half.
  EXPECT_EQ(trk_.progress().count(1), 1u);
}

TEST_F(ChangerTest, EnterJointTwiceIsRefused) {
  Install(Changer(trk_, last_index_).Simple({Add(1)}));
  Install(Changer(trk_, last_index_).EnterJoint(false, {Add(2)}));
  EXPECT_FALSE(Changer(trk_, last_index_).EnterJoint(false, {Add(3)}).ok());
  EXPECT_FALSE(Changer(trk_, last_index_).Simple({Add(3)}).ok());
}

TEST_F(ChangerTest, LeaveJointDropsRemovedVoters) {
  Install(Changer(trk_, last_index_).Simple({Add(1)}));
  Install(Changer(trk_, last_index_).Simple({Add(2)}));
  Install(Changer(trk_, last_index_).EnterJoint(false, {Remove(1), Add(3)}));
  Install(Changer(trk_, last_index_).LeaveJoint());
  EXPECT_EQ(Config(), "voters=(2 3)");
  EXPECT_EQ(trk_.progress().count(1), 0u);
}

TEST_F(ChangerTest, LeaveJointOutsideJointIsRefused) {
  Install(Changer(trk_, last_index_).Simple({Add(1)}));
  EXPECT_FALSE(Changer(trk_, last_index_).LeaveJoint().ok());
}

TEST_F(ChangerTest, DemotedOutgoingVoterBecomesLearnerOnlyWhenLeaving) {
  Install(Changer(trk_, last_index_).Simple({Add(1)}));
  Install(Changer(trk_, last_index_).Simple({Add(2)}));
  Install(Changer(trk_, last_index_).EnterJoint(false, {AddLearner(1)}));
  EXPECT_EQ(Config(), "voters=(2)&&(1 2) learners_next=(1)");
  EXPECT_FALSE(trk_.progress().at(1).is_learner());
  Install(Changer(trk_, last_index_).LeaveJoint());
  EXPECT_EQ(Config(), "voters=(2) learners=(1)");
  EXPECT_TRUE(trk_.progress().at(1).is_learner());
}

TEST(RestoreTest, RestoresASimpleConfig) {
  raftpb::ConfState cs;
  cs.add_voters(1);
  cs.add_voters(2);
  cs.add_learners(3);
  auto r = Restore(cs, 16, 0, 5);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->config.String(), "voters=(1 2) learners=(3)");
}

TEST(RestoreTest, RestoresAJointConfigWithLearnersNext) {
  raftpb::ConfState cs;
  for (uint64_t id : {2, 3, 4}) cs.add_voters(id);
  for (uint64_t id : {1, 2, 3}) cs.add_voters_outgoing(id);
  cs.add_learners_next(1);
  cs.set_auto_leave(true);
  auto r = Restore(cs, 16, 0, 5);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->config.String(), "voters=(2 3 4)&&(1 2 3) learners_next=(1) autoleave");
}

TEST(RestoreTest, RoundTripsThroughConfState) {
  raftpb::ConfState cs;
  for (uint64_t id : {1, 5}) cs.add_voters(id);
  for (uint64_t id : {1, 2, 3}) cs.add_voters_outgoing(id);
  cs.add_learners(7);
  auto r = Restore(cs, 16, 0, 5);
  ASSERT_TRUE(r.ok()) << r.status();
  tracker::ProgressTracker trk(16, 0);
  trk.config() = r->config;
  trk.progress() = r->progress;
  const raftpb::ConfState back = trk.GetConfState();
  EXPECT_EQ(back.SerializeAsString(), cs.SerializeAsString());
}

TEST(ConfChangeV2Test, MoreThanOneChangeRequiresJoint) {
  raftpb::ConfChangeV2 cc;
  *cc.add_changes() = Add(1);
  bool auto_leave = false;
  EXPECT_FALSE(EnterJointRequired(cc, &auto_leave));
  *cc.add_changes() = Add(2);
  EXPECT_TRUE(EnterJointRequired(cc, &auto_leave));
  EXPECT_TRUE(auto_leave);
  cc.set_transition(raftpb::CONF_CHANGE_TRANSITION_JOINT_EXPLICIT);
  EXPECT_TRUE(EnterJointRequired(cc, &auto_leave));
  EXPECT_FALSE(auto_leave);
}

TEST(ConfChangeV2Test, EmptyChangeLeavesJoint) {
  EXPECT_TRUE(LeaveJointRequested(raftpb::ConfChangeV2()));
}

}  // namespace
}  // namespace raftkv::raft::confchange
