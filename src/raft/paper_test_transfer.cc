// Tests for leadership transfer (thesis §3.10) and linearizable reads with ReadIndex
// (thesis §6.4).
//
// Transfer: the leader stops accepting proposals, brings the target's log up to date, then
// sends it MsgTimeoutNow so it campaigns at once; the transfer is abandoned after an election
// timeout. ReadIndex: the leader records its commit index (after committing an entry of its
// own term), confirms it is still leader with a heartbeat round acknowledged by a quorum, and
// only then returns the index; followers ask the leader.
#include "gtest/gtest.h"
#include "raft/testing/cluster.h"
#include "raft/testing/messages.h"

namespace raftkv::raft::testing {
namespace {

using ::raftkv::raftpb::MSG_TIMEOUT_NOW;

constexpr int kElectionTicks = 10;

void Elect(Cluster& c, uint64_t id) {
  ASSERT_TRUE(c.Campaign(id).ok());
  c.Stabilize();
  ASSERT_EQ(c.role(id), StateRole::kLeader);
}

TEST(TransferTest, UpToDateTargetIsToldToCampaignNow_3_10) {
  Cluster c;
  c.AddNodes(3);
  Elect(c, 1);
  c.TransferLeader(1, 2);
  EXPECT_EQ(c.status(1).lead_transferee, 2u);
  EXPECT_EQ(c.Pending(OfTypeTo(MSG_TIMEOUT_NOW, 2)).size(), 1u);
}

TEST(TransferTest, TargetBecomesLeaderOfNextTerm_3_10) {
  Cluster c;
  c.AddNodes(3);
  Elect(c, 1);
  c.TransferLeader(1, 2);
  c.Stabilize();
  EXPECT_EQ(c.Leader(), 2u);
  EXPECT_EQ(c.term(2), 2u);
  EXPECT_EQ(c.role(1), StateRole::kFollower);
}

TEST(TransferTest, ProposalsAreRefusedDuringTransfer_3_10) {
  Cluster c;
  c.AddNodes(3);
  Elect(c, 1);
  c.Isolate(2);
  c.TransferLeader(1, 2);
  absl::Status s = c.Propose(1, "x");
  EXPECT_TRUE(IsProposalDropped(s)) << s;
}

TEST(TransferTest, LaggingTargetIsCaughtUpBeforeTimeoutNow_3_10) {
  Cluster c;
  c.AddNodes(3);
  Elect(c, 1);
  c.Isolate(3);
  ASSERT_TRUE(c.Propose(1, "x").ok());
  c.Stabilize();
  c.Heal();
  c.TransferLeader(1, 3);
  EXPECT_TRUE(c.Pending(OfType(MSG_TIMEOUT_NOW)).empty()) << "node 3 lacks entry 2";
  bool target_had_log = false;
  c.SetDeliverObserver([&](const raftpb::Message& m) {
    if (m.msg_type() == MSG_TIMEOUT_NOW) target_had_log = c.LogTerms(3) == c.LogTerms(1);
  });
  c.Stabilize();
  c.SetDeliverObserver(nullptr);
  EXPECT_TRUE(target_had_log);
  EXPECT_EQ(c.Leader(), 3u);
}

TEST(TransferTest, TransferIsAbortedAfterElectionTimeout_3_10) {
  Cluster c;
  c.AddNodes(3);
  Elect(c, 1);
  c.Isolate(2);
  c.TransferLeader(1, 2);
  ASSERT_EQ(c.status(1).lead_transferee, 2u);
  c.Tick(1, kElectionTicks);
  EXPECT_EQ(c.status(1).lead_transferee, 0u);
  EXPECT_EQ(c.role(1), StateRole::kLeader);
  EXPECT_TRUE(c.Propose(1, "accepted again").ok());
}

TEST(ReadIndexTest, LeaderAnswersOnlyAfterQuorumConfirmsLeadership_6_4) {
  Cluster c;
  c.AddNodes(3);
  Elect(c, 1);
  ASSERT_TRUE(c.Propose(1, "w").ok());
  c.Stabilize();
  c.ReadIndex(1, "r");
  EXPECT_TRUE(c.read_states(1).empty()) << "no answer before the heartbeat round";
  c.Stabilize();
  ASSERT_EQ(c.read_states(1).size(), 1u);
  EXPECT_EQ(c.read_states(1)[0].request_ctx, "r");
  EXPECT_EQ(c.read_states(1)[0].index, 2u) << "the commit index when the read arrived";
}

TEST(ReadIndexTest, FollowerGetsReadIndexFromLeader_6_4) {
  Cluster c;
  c.AddNodes(3);
  Elect(c, 1);
  c.ReadIndex(3, "f");
  c.Stabilize();
  ASSERT_EQ(c.read_states(3).size(), 1u);
  EXPECT_EQ(c.read_states(3)[0].request_ctx, "f");
  EXPECT_EQ(c.read_states(3)[0].index, c.status(1).hard_state.commit());
}

TEST(ReadIndexTest, NewLeaderAnswersOnlyAfterCommittingEntryOfItsTerm_6_4) {
  Cluster c;
  c.AddNodes(3);
  ASSERT_TRUE(c.Campaign(1).ok());
  // Deliver the election only: the leader's empty entry is not yet committed.
  while (
      c.DeliverFirst([](const raftpb::Message& m) { return m.msg_type() != raftpb::MSG_APPEND; })) {
  }
  ASSERT_EQ(c.role(1), StateRole::kLeader);
  c.ReadIndex(1, "early");
  c.Stabilize();
  ASSERT_EQ(c.read_states(1).size(), 1u);
  EXPECT_GE(c.read_states(1)[0].index, 1u)
      << "the read point includes the entry of the leader's term";
}

TEST(ReadIndexTest, IsolatedLeaderNeverServesRead_6_4) {
  Cluster c;
  c.AddNodes(3);
  Elect(c, 1);
  c.Isolate(1);
  Elect(c, 2);
  ASSERT_TRUE(c.Propose(2, "newer").ok());
  c.Stabilize();
  c.ReadIndex(1, "stale");
  for (int i = 0; i < 3 * kElectionTicks; ++i) {
    c.Tick(1);
    c.Stabilize();
  }
  EXPECT_TRUE(c.read_states(1).empty());
}

}  // namespace
}  // namespace raftkv::raft::testing
