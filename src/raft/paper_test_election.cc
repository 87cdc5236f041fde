// Paper tests for §5.2 (leader election).
//
// Followers that hear nothing for an election timeout become candidates: they increment the
// term, vote for themselves and request votes; a candidate wins with votes from a majority,
// steps down when it hears from a leader of an equal or higher term, and starts a new election
// in a higher term after a split vote. Each server votes for at most one candidate per term,
// first come first served. Timeouts are randomized in [T, 2T) so that split votes are rare.
#include <set>

#include "gtest/gtest.h"
#include "raft/testing/cluster.h"
#include "raft/testing/messages.h"

namespace raftkv::raft::testing {
namespace {

constexpr int kElectionTicks = 10;

// Ticks node `id` one tick at a time until it leaves the follower role; returns the number of
// ticks, or -1 after 4T ticks without an election.
int TicksUntilCampaign(Cluster& c, uint64_t id) {
  for (int ticks = 1; ticks <= 4 * kElectionTicks; ++ticks) {
    c.Tick(id);
    if (c.role(id) != StateRole::kFollower) return ticks;
  }
  return -1;
}

TEST(PaperElectionTest, FollowerBecomesCandidateAfterElectionTimeout_5_2) {
  Cluster c;
  c.AddNodes(3);
  int ticks = TicksUntilCampaign(c, 1);
  ASSERT_GT(ticks, 0) << "no election after 4T ticks";
  EXPECT_EQ(c.role(1), StateRole::kCandidate);
}

TEST(PaperElectionTest, ElectionTimeoutIsDrawnFromTTo2T_5_2) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    ClusterOptions options;
    options.seed = seed;
    options.election_ticks = kElectionTicks;
    Cluster c(options);
    c.AddNodes(3);
    int ticks = TicksUntilCampaign(c, 1);
    EXPECT_GE(ticks, kElectionTicks) << "seed " << seed;
    EXPECT_LT(ticks, 2 * kElectionTicks) << "seed " << seed;
  }
}

TEST(PaperElectionTest, ElectionTimeoutsAreRandomizedAcrossNodes_5_2) {
  ClusterOptions options;
  options.seed = 11;
  Cluster c(options);
  std::vector<uint64_t> ids = c.AddNodes(7);
  std::set<int> timeouts;
  for (uint64_t id : ids) timeouts.insert(TicksUntilCampaign(c, id));
  // Seven draws from ten values all equal would mean the timeouts are not randomized.
  EXPECT_GT(timeouts.size(), 1u);
}

TEST(PaperElectionTest, ElectionTimeoutIsReproducibleFromSeed_5_2) {
  for (uint64_t seed : {3u, 17u, 99u}) {
    ClusterOptions options;
    options.seed = seed;
    Cluster a(options);
    Cluster b(options);
    a.AddNodes(3);
    b.AddNodes(3);
    EXPECT_EQ(TicksUntilCampaign(a, 2), TicksUntilCampaign(b, 2)) << "seed " << seed;
  }
}

TEST(PaperElectionTest, CandidateIncrementsTermAndVotesForItself_5_2) {
  Cluster c;
  c.AddNodes(3);
  ASSERT_TRUE(c.Campaign(1).ok());
  EXPECT_EQ(c.role(1), StateRole::kCandidate);
  raftpb::HardState hs = c.hard_state(1);
  EXPECT_EQ(hs.term(), 1u);
  EXPECT_EQ(hs.vote(), 1u);
}

TEST(PaperElectionTest, CandidateRequestsVotesFromEveryPeerWithItsLastEntry_5_2) {
  Cluster c;
  NodeSetup setup;
  setup.voters = {1, 2, 3};
  setup.log_terms = {1, 1, 2};
  for (uint64_t id : {1, 2, 3}) c.AddNode(id, setup);
  ASSERT_TRUE(c.Campaign(1).ok());
  std::set<uint64_t> asked;
  for (const auto& m : c.Pending(OfType(raftpb::MSG_REQUEST_VOTE))) {
    EXPECT_EQ(m.from(), 1u);
    EXPECT_EQ(m.term(), 3u);
    EXPECT_EQ(m.index(), 3u) << "last log index";
    EXPECT_EQ(m.log_term(), 2u) << "last log term";
    asked.insert(m.to());
  }
  EXPECT_EQ(asked, (std::set<uint64_t>{2, 3}));
}

TEST(PaperElectionTest, CandidateWinsWithVotesFromMajority_5_2) {
  Cluster c;
  c.AddNodes(5);
  ASSERT_TRUE(c.Campaign(1).ok());
  ASSERT_TRUE(c.DeliverFirst(OfTypeTo(raftpb::MSG_REQUEST_VOTE, 2)));
  ASSERT_TRUE(c.DeliverFirst(OfTypeFrom(raftpb::MSG_REQUEST_VOTE_RESPONSE, 2)));
  EXPECT_EQ(c.role(1), StateRole::kCandidate) << "two votes of five are not a majority";
  ASSERT_TRUE(c.DeliverFirst(OfTypeTo(raftpb::MSG_REQUEST_VOTE, 3)));
  ASSERT_TRUE(c.DeliverFirst(OfTypeFrom(raftpb::MSG_REQUEST_VOTE_RESPONSE, 3)));
  EXPECT_EQ(c.role(1), StateRole::kLeader) << "three votes of five are a majority";
  EXPECT_EQ(c.status(1).soft_state.leader, 1u);
}

TEST(PaperElectionTest, SingleNodeElectsItself_5_2) {
  Cluster c;
  c.AddNodes(1);
  ASSERT_TRUE(c.Campaign(1).ok());
  c.Stabilize();
  EXPECT_EQ(c.role(1), StateRole::kLeader);
  EXPECT_EQ(c.term(1), 1u);
}

TEST(PaperElectionTest, CandidateDoesNotWinWhenMajorityRejects_5_2) {
  Cluster c;
  c.AddNodes(3);
  ASSERT_TRUE(c.Campaign(1).ok());
  c.TakeInFlight();
  for (uint64_t peer : {2, 3}) {
    raftpb::Message reject = MakeMessage(raftpb::MSG_REQUEST_VOTE_RESPONSE, peer, 1, 1);
    reject.set_reject(true);
    ASSERT_TRUE(c.Step(reject).ok());
  }
  EXPECT_NE(c.role(1), StateRole::kLeader);
}

TEST(PaperElectionTest, CandidateStepsDownOnAppendFromLeaderOfSameTerm_5_2) {
  Cluster c;
  c.AddNodes(3);
  ASSERT_TRUE(c.Campaign(1).ok());
  ASSERT_EQ(c.term(1), 1u);
  ASSERT_TRUE(c.Step(MakeAppend(2, 1, 1, 0, 0, {})).ok());
  EXPECT_EQ(c.role(1), StateRole::kFollower);
  EXPECT_EQ(c.term(1), 1u);
  EXPECT_EQ(c.status(1).soft_state.leader, 2u);
}

TEST(PaperElectionTest, CandidateStepsDownOnHeartbeatFromLeaderOfSameTerm_5_2) {
  Cluster c;
  c.AddNodes(3);
  ASSERT_TRUE(c.Campaign(1).ok());
  ASSERT_TRUE(c.Step(MakeHeartbeat(3, 1, 1)).ok());
  EXPECT_EQ(c.role(1), StateRole::kFollower);
  EXPECT_EQ(c.status(1).soft_state.leader, 3u);
}

TEST(PaperElectionTest, CandidateIgnoresAppendFromStaleLeader_5_2) {
  Cluster c;
  c.AddNodes(3);
  ASSERT_TRUE(c.Campaign(1).ok());
  ASSERT_TRUE(c.Campaign(1).ok());
  ASSERT_EQ(c.term(1), 2u);
  ASSERT_TRUE(c.Step(MakeAppend(2, 1, 1, 0, 0, {})).ok());
  EXPECT_EQ(c.role(1), StateRole::kCandidate);
  EXPECT_EQ(c.term(1), 2u);
}

TEST(PaperElectionTest, SplitVoteLeadsToNewElectionInHigherTerm_5_2) {
  Cluster c;
  c.AddNodes(4);
  ASSERT_TRUE(c.Campaign(1).ok());
  ASSERT_TRUE(c.Campaign(2).ok());
  // Node 3 hears from 1 first and node 4 from 2 first: two votes each, three needed.
  ASSERT_TRUE(c.DeliverFirst(OfTypeTo(raftpb::MSG_REQUEST_VOTE, 3)));
  ASSERT_TRUE(c.DeliverFirst([](const raftpb::Message& m) {
    return Between(2, 4)(m) && OfType(raftpb::MSG_REQUEST_VOTE)(m);
  }));
  c.Stabilize();
  ASSERT_NE(c.role(1), StateRole::kLeader);
  ASSERT_NE(c.role(2), StateRole::kLeader);
  ASSERT_EQ(c.Leader(), 0u);
  // Without a leader, a candidate's election timeout fires again and it tries a higher term.
  for (int i = 0; i < 2 * kElectionTicks && c.term(1) == 1; ++i) c.Tick(1);
  EXPECT_EQ(c.term(1), 2u);
  EXPECT_EQ(c.role(1), StateRole::kCandidate);
  EXPECT_EQ(c.Pending(OfType(raftpb::MSG_REQUEST_VOTE)).size(), 3u);
  c.Stabilize();
  EXPECT_EQ(c.Leader(), 1u) << "the new election in term 2 succeeds";
}

TEST(PaperElectionTest, VoterGrantsAtMostOneVotePerTermFirstComeFirstServed_5_2) {
  Cluster c;
  c.AddNodes(5);
  ASSERT_TRUE(c.Step(MakeVoteRequest(2, 1, 1, 0, 0)).ok());
  ASSERT_TRUE(c.Step(MakeVoteRequest(3, 1, 1, 0, 0)).ok());
  auto to2 = c.Pending(OfTypeTo(raftpb::MSG_REQUEST_VOTE_RESPONSE, 2));
  ASSERT_EQ(to2.size(), 1u);
  EXPECT_FALSE(to2[0].reject()) << "the first candidate gets the vote";
  for (const auto& m : c.Pending(OfTypeTo(raftpb::MSG_REQUEST_VOTE_RESPONSE, 3))) {
    EXPECT_TRUE(m.reject()) << "the vote of term 1 is already given: " << DescribeMessage(m);
  }
  EXPECT_EQ(c.hard_state(1).vote(), 2u);
}

TEST(PaperElectionTest, RepeatedRequestFromVotedCandidateIsGrantedAgain_5_2) {
  // votedFor is null *or candidateId* (Figure 2): a retransmitted request must not be refused.
  Cluster c;
  c.AddNodes(3);
  ASSERT_TRUE(c.Step(MakeVoteRequest(2, 1, 1, 0, 0)).ok());
  c.TakeInFlight();
  ASSERT_TRUE(c.Step(MakeVoteRequest(2, 1, 1, 0, 0)).ok());
  auto resp = c.Pending(OfTypeTo(raftpb::MSG_REQUEST_VOTE_RESPONSE, 2));
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_FALSE(resp[0].reject());
}

TEST(PaperElectionTest, VoteInLaterTermIsIndependentOfEarlierVote_5_2) {
  Cluster c;
  c.AddNodes(3);
  ASSERT_TRUE(c.Step(MakeVoteRequest(2, 1, 1, 0, 0)).ok());
  c.TakeInFlight();
  ASSERT_TRUE(c.Step(MakeVoteRequest(3, 1, 2, 0, 0)).ok());
  auto resp = c.Pending(OfTypeTo(raftpb::MSG_REQUEST_VOTE_RESPONSE, 3));
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_FALSE(resp[0].reject());
  EXPECT_EQ(c.hard_state(1).term(), 2u);
  EXPECT_EQ(c.hard_state(1).vote(), 3u);
}

TEST(PaperElectionTest, VoteResponseCarriesVotersTerm_5_2) {
  Cluster c;
  c.AddNodes(3);
  ASSERT_TRUE(c.Step(MakeVoteRequest(2, 1, 4, 0, 0)).ok());
  auto resp = c.Pending(OfTypeTo(raftpb::MSG_REQUEST_VOTE_RESPONSE, 2));
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_EQ(resp[0].term(), 4u);
}

TEST(PaperElectionTest, HeartbeatsFromLeaderResetElectionTimer_5_2) {
  // Learn node 1's timeout r with a twin cluster that sees the same inputs.
  ClusterOptions options;
  options.seed = 5;
  Cluster twin(options);
  twin.AddNodes(3);
  ASSERT_TRUE(twin.Step(MakeHeartbeat(2, 1, 1)).ok());
  int r = TicksUntilCampaign(twin, 1);
  ASSERT_GE(r, kElectionTicks);

  Cluster c(options);
  c.AddNodes(3);
  ASSERT_TRUE(c.Step(MakeHeartbeat(2, 1, 1)).ok());
  c.Tick(1, r - 1);
  ASSERT_TRUE(c.Step(MakeHeartbeat(2, 1, 1)).ok());
  // r ticks have passed in total, but the heartbeat restarted the timer.
  c.Tick(1, kElectionTicks - 1);
  EXPECT_EQ(c.role(1), StateRole::kFollower);
  EXPECT_EQ(c.term(1), 1u);
  EXPECT_GT(TicksUntilCampaign(c, 1), 0) << "once the heartbeats stop, the timer fires";
}

TEST(PaperElectionTest, LeaderSendsHeartbeatsEveryHeartbeatInterval_5_2) {
  ClusterOptions options;
  options.heartbeat_ticks = 3;
  Cluster c(options);
  c.AddNodes(3);
  ASSERT_TRUE(c.Campaign(1).ok());
  c.Stabilize();
  ASSERT_EQ(c.role(1), StateRole::kLeader);
  c.Tick(1, 2);
  EXPECT_TRUE(c.Pending(OfType(raftpb::MSG_HEARTBEAT)).empty());
  c.Tick(1, 1);
  std::set<uint64_t> to;
  for (const auto& m : c.Pending(OfType(raftpb::MSG_HEARTBEAT))) to.insert(m.to());
  EXPECT_EQ(to, (std::set<uint64_t>{2, 3}));
}

TEST(PaperElectionTest, LeaderDoesNotCampaignWhileLeading_5_2) {
  Cluster c;
  c.AddNodes(3);
  ASSERT_TRUE(c.Campaign(1).ok());
  c.Stabilize();
  for (int i = 0; i < 5 * kElectionTicks; ++i) {
    c.TickAll();
    c.Stabilize();
  }
  EXPECT_EQ(c.Leader(), 1u);
  EXPECT_EQ(c.term(1), 1u) << "heartbeats keep followers from starting elections";
}

TEST(PaperElectionTest, ClusterElectsExactlyOneLeaderFromTimeoutsAlone_5_2) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    ClusterOptions options;
    options.seed = seed;
    Cluster c(options);
    c.AddNodes(5);
    for (int i = 0; i < 10 * kElectionTicks && c.Leader() == 0; ++i) {
      c.TickAll();
      c.Stabilize();
    }
    uint64_t leader = c.Leader();
    ASSERT_NE(leader, 0u) << "seed " << seed;
    for (uint64_t id : c.ids()) {
      if (id != leader) {
        EXPECT_EQ(c.status(id).soft_state.leader, leader) << "seed " << seed;
      }
    }
  }
}

}  // namespace
}  // namespace raftkv::raft::testing
