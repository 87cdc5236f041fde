// Paper tests for §5.1 (Raft basics: terms).
//
// "Current terms are exchanged whenever servers communicate; if one server's current term is
// smaller than the other's, then it updates its current term to the larger value. If a
// candidate or leader discovers that its term is out of date, it immediately reverts to
// follower state. If a server receives a request with a stale term number, it rejects the
// request." (Ongaro & Ousterhout, §5.1)
#include "gtest/gtest.h"
#include "raft/testing/cluster.h"
#include "raft/testing/messages.h"

namespace raftkv::raft::testing {
namespace {

// Makes node 1 the leader of a stable three-node cluster.
void ElectNodeOne(Cluster& c) {
  ASSERT_TRUE(c.Campaign(1).ok());
  c.Stabilize();
  ASSERT_EQ(c.role(1), StateRole::kLeader);
}

TEST(PaperTermTest, FollowerAdoptsHigherTermFromAppend_5_1) {
  Cluster c;
  c.AddNodes(3);
  ASSERT_TRUE(c.Step(MakeAppend(2, 1, 5, 0, 0, {})).ok());
  Status st = c.status(1);
  EXPECT_EQ(st.hard_state.term(), 5u);
  EXPECT_EQ(st.soft_state.role, StateRole::kFollower);
  EXPECT_EQ(st.soft_state.leader, 2u);
}

TEST(PaperTermTest, AdoptedTermIsPersistedInHardState_5_1) {
  Cluster c;
  c.AddNodes(3);
  ASSERT_TRUE(c.Step(MakeHeartbeat(3, 1, 4)).ok());
  // Figure 2: currentTerm is persistent state, updated on stable storage.
  EXPECT_EQ(c.hard_state(1).term(), 4u);
}

TEST(PaperTermTest, CandidateStepsDownOnHigherTermAppend_5_1) {
  Cluster c;
  c.AddNodes(3);
  ASSERT_TRUE(c.Campaign(1).ok());
  ASSERT_EQ(c.role(1), StateRole::kCandidate);
  ASSERT_TRUE(c.Step(MakeAppend(2, 1, 2, 0, 0, {})).ok());
  EXPECT_EQ(c.role(1), StateRole::kFollower);
  EXPECT_EQ(c.term(1), 2u);
  EXPECT_EQ(c.status(1).soft_state.leader, 2u);
}

TEST(PaperTermTest, CandidateStepsDownOnHigherTermVoteRequest_5_1) {
  Cluster c;
  c.AddNodes(3);
  ASSERT_TRUE(c.Campaign(1).ok());
  ASSERT_TRUE(c.Step(MakeVoteRequest(3, 1, 5, 0, 0)).ok());
  EXPECT_EQ(c.role(1), StateRole::kFollower);
  EXPECT_EQ(c.term(1), 5u);
}

TEST(PaperTermTest, LeaderStepsDownOnHigherTermAppend_5_1) {
  Cluster c;
  c.AddNodes(3);
  ElectNodeOne(c);
  uint64_t term = c.term(1);
  ASSERT_TRUE(c.Step(MakeAppend(2, 1, term + 1, 0, 0, {})).ok());
  EXPECT_EQ(c.role(1), StateRole::kFollower);
  EXPECT_EQ(c.term(1), term + 1);
  EXPECT_EQ(c.status(1).soft_state.leader, 2u);
}

TEST(PaperTermTest, LeaderStepsDownOnHigherTermVoteRequest_5_1) {
  Cluster c;
  c.AddNodes(3);
  ElectNodeOne(c);
  uint64_t term = c.term(1);
  uint64_t last = c.status(1).hard_state.commit();
  ASSERT_TRUE(c.Step(MakeVoteRequest(2, 1, term + 1, last, term)).ok());
  EXPECT_EQ(c.role(1), StateRole::kFollower);
  EXPECT_EQ(c.term(1), term + 1);
}

TEST(PaperTermTest, LeaderStepsDownOnHigherTermResponse_5_1) {
  Cluster c;
  c.AddNodes(3);
  ElectNodeOne(c);
  uint64_t term = c.term(1);
  raftpb::Message resp = MakeMessage(raftpb::MSG_APPEND_RESPONSE, 3, 1, term + 2);
  ASSERT_TRUE(c.Step(resp).ok());
  EXPECT_EQ(c.role(1), StateRole::kFollower);
  EXPECT_EQ(c.term(1), term + 2);
}

TEST(PaperTermTest, StaleTermAppendIsRejectedAndChangesNothing_5_1) {
  Cluster c;
  NodeSetup setup;
  setup.voters = {1, 2, 3};
  setup.term = 3;
  for (uint64_t id : {1, 2, 3}) c.AddNode(id, setup);
  c.TakeInFlight();
  ASSERT_TRUE(c.Step(MakeAppend(2, 1, 2, 0, 0, {MakeEntry(1, 2, "stale")}, 1)).ok());
  EXPECT_TRUE(c.Log(1).empty());
  EXPECT_EQ(c.term(1), 3u);
  EXPECT_EQ(c.status(1).soft_state.leader, 0u) << "a stale leader must not be recognised";
  EXPECT_EQ(c.hard_state(1).commit(), 0u);
  // If the node answers at all, the answer carries its newer term so the sender steps down.
  for (const auto& m : c.InFlight()) {
    EXPECT_EQ(m.term(), 3u) << DescribeMessage(m);
  }
}

TEST(PaperTermTest, StaleTermVoteRequestIsNotGranted_5_1) {
  Cluster c;
  NodeSetup setup;
  setup.voters = {1, 2, 3};
  setup.term = 3;
  for (uint64_t id : {1, 2, 3}) c.AddNode(id, setup);
  ASSERT_TRUE(c.Step(MakeVoteRequest(2, 1, 2, 5, 2)).ok());
  EXPECT_EQ(c.hard_state(1).vote(), 0u);
  EXPECT_EQ(c.term(1), 3u);
  for (const auto& m : c.InFlight()) {
    EXPECT_FALSE(m.msg_type() == raftpb::MSG_REQUEST_VOTE_RESPONSE && !m.reject())
        << "granted a stale vote: " << DescribeMessage(m);
  }
}

TEST(PaperTermTest, StaleHeartbeatDoesNotResetFollowerLeader_5_1) {
  Cluster c;
  c.AddNodes(3);
  ASSERT_TRUE(c.Step(MakeHeartbeat(2, 1, 4)).ok());
  ASSERT_TRUE(c.Step(MakeHeartbeat(3, 1, 3)).ok());
  EXPECT_EQ(c.status(1).soft_state.leader, 2u);
  EXPECT_EQ(c.term(1), 4u);
}

TEST(PaperTermTest, DeposedLeaderStepsDownWhenPartitionHeals_5_1) {
  Cluster c;
  c.AddNodes(3);
  ElectNodeOne(c);
  c.Isolate(1);
  ASSERT_TRUE(c.Campaign(2).ok());
  c.Stabilize();
  ASSERT_EQ(c.role(2), StateRole::kLeader);
  ASSERT_EQ(c.role(1), StateRole::kLeader) << "the cut-off leader cannot know yet";
  c.Heal();
  c.Tick(2, 1);  // heartbeat_ticks = 1: the new leader's heartbeat reaches the old one
  c.Stabilize();
  EXPECT_EQ(c.role(1), StateRole::kFollower);
  EXPECT_EQ(c.term(1), c.term(2));
  EXPECT_EQ(c.status(1).soft_state.leader, 2u);
}

TEST(PaperTermTest, TermNeverDecreases_5_1) {
  Cluster c;
  c.AddNodes(3);
  ASSERT_TRUE(c.Step(MakeHeartbeat(2, 1, 7)).ok());
  ASSERT_TRUE(c.Step(MakeVoteRequest(3, 1, 6, 100, 6)).ok());
  ASSERT_TRUE(c.Step(MakeAppend(3, 1, 2, 0, 0, {})).ok());
  EXPECT_EQ(c.term(1), 7u);
  EXPECT_EQ(c.hard_state(1).term(), 7u);
}

}  // namespace
}  // namespace raftkv::raft::testing
