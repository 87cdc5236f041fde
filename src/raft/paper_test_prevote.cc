// Tests for PreVote (thesis §9.6) and CheckQuorum (thesis §6.2, §9.6).
//
// PreVote: before raising its term, a would-be candidate asks whether it could win; a node
// that cannot reach a majority (or whose log is behind) never increments its term, so it
// cannot depose a working leader when it comes back. CheckQuorum: a leader that has not heard
// from a quorum within an election timeout steps down, and a follower that heard from a leader
// within the minimum election timeout ignores vote requests.
#include "gtest/gtest.h"
#include "raft/testing/cluster.h"
#include "raft/testing/messages.h"

namespace raftkv::raft::testing {
namespace {

using ::raftkv::raftpb::MSG_REQUEST_PRE_VOTE;
using ::raftkv::raftpb::MSG_REQUEST_PRE_VOTE_RESPONSE;
using ::raftkv::raftpb::MSG_REQUEST_VOTE;
using ::raftkv::raftpb::MSG_REQUEST_VOTE_RESPONSE;

constexpr int kElectionTicks = 10;

ClusterOptions PreVote() {
  ClusterOptions options;
  options.pre_vote = true;
  return options;
}

ClusterOptions CheckQuorum() {
  ClusterOptions options;
  options.check_quorum = true;
  return options;
}

void Elect(Cluster& c, uint64_t id) {
  ASSERT_TRUE(c.Campaign(id).ok());
  c.Stabilize();
  ASSERT_EQ(c.role(id), StateRole::kLeader);
}

TEST(PreVoteTest, PreCandidateAsksForNextTermWithoutTakingIt_9_6) {
  Cluster c(PreVote());
  c.AddNodes(3);
  ASSERT_TRUE(c.Campaign(1).ok());
  EXPECT_EQ(c.role(1), StateRole::kPreCandidate);
  EXPECT_EQ(c.term(1), 0u) << "the term is raised only after the pre-vote succeeds";
  EXPECT_EQ(c.hard_state(1).vote(), 0u);
  auto requests = c.Pending(OfType(MSG_REQUEST_PRE_VOTE));
  ASSERT_EQ(requests.size(), 2u);
  for (const auto& m : requests) EXPECT_EQ(m.term(), 1u) << "the term it would campaign in";
}

TEST(PreVoteTest, GrantingPreVoteChangesNothingOnTheVoter_9_6) {
  Cluster c(PreVote());
  c.AddNodes(3);
  raftpb::Message pre = MakeVoteRequest(2, 1, 1, 0, 0);
  pre.set_msg_type(MSG_REQUEST_PRE_VOTE);
  ASSERT_TRUE(c.Step(pre).ok());
  auto resp = c.Pending(OfTypeTo(MSG_REQUEST_PRE_VOTE_RESPONSE, 2));
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_FALSE(resp[0].reject());
  EXPECT_EQ(c.term(1), 0u);
  EXPECT_EQ(c.hard_state(1).vote(), 0u);
}

TEST(PreVoteTest, PreVoteDeniedToLessUpToDateLog_9_6) {
  Cluster c(PreVote());
  NodeSetup setup;
  setup.voters = {1, 2, 3};
  setup.log_terms = {1, 2};
  c.AddNode(1, setup);
  raftpb::Message pre = MakeVoteRequest(2, 1, 3, 5, 1);
  pre.set_msg_type(MSG_REQUEST_PRE_VOTE);
  ASSERT_TRUE(c.Step(pre).ok());
  auto resp = c.Pending(OfTypeTo(MSG_REQUEST_PRE_VOTE_RESPONSE, 2));
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_TRUE(resp[0].reject());
}

TEST(PreVoteTest, SuccessfulPreVoteLeadsToRealElection_9_6) {
  Cluster c(PreVote());
  c.AddNodes(3);
  Elect(c, 1);
  EXPECT_EQ(c.term(1), 1u);
}

TEST(PreVoteTest, PartitionedNodeDoesNotRaiseItsTerm_9_6) {
  Cluster c(PreVote());
  c.AddNodes(3);
  Elect(c, 1);
  c.Isolate(3);
  c.Tick(3, 5 * kElectionTicks);
  EXPECT_EQ(c.term(3), 1u);
  EXPECT_EQ(c.hard_state(3).term(), 1u);
  EXPECT_TRUE(c.Pending(OfType(MSG_REQUEST_VOTE)).empty());
}

TEST(PreVoteTest, RejoiningNodeDoesNotDisruptLeader_9_6) {
  Cluster c(PreVote());
  c.AddNodes(3);
  Elect(c, 1);
  c.Isolate(3);
  ASSERT_TRUE(c.Propose(1, "while-away").ok());
  c.Stabilize();
  c.Tick(3, 5 * kElectionTicks);
  c.Heal();
  for (int i = 0; i < 3 * kElectionTicks; ++i) {
    c.TickAll();
    c.Stabilize();
  }
  EXPECT_EQ(c.Leader(), 1u);
  EXPECT_EQ(c.term(1), 1u);
  EXPECT_EQ(c.AppliedData(3), (std::vector<std::string>{"while-away"}));
}

TEST(PreVoteTest, WithoutPreVoteRejoiningNodeDeposesLeader_9_6) {
  // The contrast case: the disruption PreVote exists to prevent.
  Cluster c;
  c.AddNodes(3);
  Elect(c, 1);
  c.Isolate(3);
  c.Tick(3, 5 * kElectionTicks);
  ASSERT_GT(c.term(3), 1u);
  c.Heal();
  c.Tick(3, 2 * kElectionTicks);
  c.Stabilize();
  EXPECT_GT(c.term(1), 1u);
  EXPECT_NE(c.role(1), StateRole::kLeader);
}

TEST(CheckQuorumTest, LeaderWithoutQuorumStepsDown) {
  Cluster c(CheckQuorum());
  c.AddNodes(3);
  Elect(c, 1);
  c.Partition({{1}, {2, 3}});
  c.Tick(1, 2 * kElectionTicks);
  EXPECT_EQ(c.role(1), StateRole::kFollower);
  EXPECT_TRUE(IsProposalDropped(c.Propose(1, "x")));
}

TEST(CheckQuorumTest, LeaderHearingFromQuorumStaysLeader) {
  Cluster c(CheckQuorum());
  c.AddNodes(5);
  Elect(c, 1);
  c.Partition({{1, 2, 3}, {4, 5}});
  for (int i = 0; i < 5 * kElectionTicks; ++i) {
    c.Tick(1);
    c.Stabilize();
  }
  EXPECT_EQ(c.role(1), StateRole::kLeader);
}

TEST(CheckQuorumTest, FollowerWithinLeaseIgnoresVoteRequest) {
  Cluster c(CheckQuorum());
  c.AddNodes(3);
  Elect(c, 1);
  uint64_t term = c.term(2);
  ASSERT_TRUE(c.Step(MakeVoteRequest(3, 2, term + 1, 100, term)).ok());
  EXPECT_EQ(c.term(2), term) << "a vote request inside the lease does not even raise the term";
  EXPECT_EQ(c.status(2).soft_state.leader, 1u);
  for (const auto& m : c.Pending(OfTypeFrom(MSG_REQUEST_VOTE_RESPONSE, 2))) {
    EXPECT_TRUE(m.reject()) << DescribeMessage(m);
  }
}

TEST(CheckQuorumTest, FollowerPastLeaseGrantsVote) {
  Cluster c(CheckQuorum());
  c.AddNodes(3);
  Elect(c, 1);
  c.Isolate(1);
  c.Tick(2, kElectionTicks);  // the minimum election timeout passes without the leader
  uint64_t term = c.term(2);
  c.TakeInFlight();
  ASSERT_TRUE(c.Step(MakeVoteRequest(3, 2, term + 1, 100, term)).ok());
  auto resp = c.Pending(OfTypeTo(MSG_REQUEST_VOTE_RESPONSE, 3));
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_FALSE(resp[0].reject());
}

}  // namespace
}  // namespace raftkv::raft::testing
