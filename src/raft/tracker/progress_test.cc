#include "raft/tracker/progress.h"

#include "gtest/gtest.h"

namespace raftkv::raft::tracker {
namespace {

Progress MakeProgress(uint64_t match, uint64_t next, ProgressState state) {
  Progress pr(1, 8, 0, false);
  pr.MaybeUpdate(match);
  if (state == ProgressState::kReplicate) pr.BecomeReplicate();
  // Move next forward as optimistic sends would.
  if (state == ProgressState::kReplicate && next > match + 1) pr.SentEntries(next - 1, 1, 0);
  if (state == ProgressState::kProbe && next > pr.next()) {
    // In probe state next only moves by acknowledgements; emulate via MaybeUpdate + reset.
    pr.MaybeUpdate(next - 1);
  }
  return pr;
}

TEST(ProgressTest, MaybeUpdateAdvancesMatchAndNext) {
  Progress pr(5, 8, 0, false);
  EXPECT_TRUE(pr.MaybeUpdate(7));
  EXPECT_EQ(pr.match(), 7u);
  EXPECT_EQ(pr.next(), 8u);
}

TEST(ProgressTest, StaleAcknowledgementDoesNotMoveMatchBack) {
  Progress pr(5, 8, 0, false);
  ASSERT_TRUE(pr.MaybeUpdate(7));
  EXPECT_FALSE(pr.MaybeUpdate(3));
  EXPECT_EQ(pr.match(), 7u);
  EXPECT_EQ(pr.next(), 8u);
}

TEST(ProgressTest, MatchStaysBelowNext) {
  Progress pr(2, 8, 0, false);
  pr.MaybeUpdate(10);
  EXPECT_LT(pr.match(), pr.next());
  pr.BecomeProbe();
  EXPECT_LT(pr.match(), pr.next());
  pr.BecomeSnapshot(20);
  EXPECT_LT(pr.match(), pr.next());
}

TEST(ProgressTest, ProbeSendsOneAppendAtATime) {
  Progress pr(5, 8, 0, false);
  EXPECT_FALSE(pr.IsPaused());
  pr.SentEntries(7, 2, 10);
  EXPECT_TRUE(pr.IsPaused());
  // A heartbeat response shows the follower alive: the next probe may go.
  pr.ResumeProbe();
  EXPECT_FALSE(pr.IsPaused());
}

TEST(ProgressTest, ProbeDoesNotMoveNextOptimistically) {
  Progress pr(5, 8, 0, false);
  pr.SentEntries(9, 5, 10);
  EXPECT_EQ(pr.next(), 5u);
}

TEST(ProgressTest, ReplicatePipelinesUntilTheWindowIsFull) {
  Progress pr(1, 2, 0, false);
  pr.BecomeReplicate();
  pr.SentEntries(3, 3, 1);
  EXPECT_EQ(pr.next(), 4u);
  EXPECT_FALSE(pr.IsPaused());
  pr.SentEntries(5, 2, 1);
  EXPECT_TRUE(pr.IsPaused());
}

TEST(ProgressTest, SnapshotStateIsAlwaysPaused) {
  Progress pr(1, 8, 0, false);
  pr.BecomeSnapshot(10);
  EXPECT_TRUE(pr.IsPaused());
  EXPECT_EQ(pr.pending_snapshot(), 10u);
}

TEST(ProgressTest, LeavingSnapshotStateProbesAfterTheSnapshot) {
  Progress pr(1, 8, 0, false);
  pr.BecomeSnapshot(10);
  pr.BecomeProbe();
  EXPECT_EQ(pr.state(), ProgressState::kProbe);
  EXPECT_EQ(pr.next(), 11u);
  EXPECT_EQ(pr.pending_snapshot(), 0u);
}

TEST(ProgressTest, FailedSnapshotProbesFromMatch) {
  Progress pr(1, 8, 0, false);
  pr.MaybeUpdate(3);
  pr.BecomeSnapshot(10);
  pr.AbortSnapshot();
  pr.BecomeProbe();
  EXPECT_EQ(pr.next(), 4u);
}

TEST(ProgressTest, ReplicateRejectionAtOrBelowMatchIsStale) {
  Progress pr = MakeProgress(5, 10, ProgressState::kReplicate);
  EXPECT_FALSE(pr.MaybeDecrTo(5, 5));
  EXPECT_FALSE(pr.MaybeDecrTo(4, 4));
  EXPECT_EQ(pr.next(), 10u);
}

TEST(ProgressTest, ReplicateRejectionFallsBackToMatchPlusOne) {
  Progress pr = MakeProgress(5, 10, ProgressState::kReplicate);
  EXPECT_TRUE(pr.MaybeDecrTo(9, 9));
  EXPECT_EQ(pr.next(), 6u);
}

TEST(ProgressTest, ProbeRejectionOfAnOlderProbeIsStale) {
  Progress pr(10, 8, 0, false);  // next 10, so the outstanding probe is at index 9
  EXPECT_FALSE(pr.MaybeDecrTo(5, 5));
  EXPECT_EQ(pr.next(), 10u);
}

TEST(ProgressTest, ProbeRejectionUsesTheHint) {
  Progress pr(10, 8, 0, false);
  pr.SentEntries(9, 0, 0);
  EXPECT_TRUE(pr.MaybeDecrTo(9, 4));
  EXPECT_EQ(pr.next(), 5u);
  // The rejection answered the probe, so the next one may go.
  EXPECT_FALSE(pr.IsPaused());
}

TEST(ProgressTest, ProbeRejectionNeverMovesNextAtOrBelowMatch) {
  Progress q(1, 8, 0, false);
  q.MaybeUpdate(3);  // match 3, next 4: the outstanding probe is at index 3
  // A hint of 0 would point below match, which the follower is known to hold.
  EXPECT_TRUE(q.MaybeDecrTo(3, 0));
  EXPECT_EQ(q.next(), 4u);
  EXPECT_LT(q.match(), q.next());
}

TEST(ProgressTest, BecomeReplicateRestartsFromMatch) {
  Progress pr(1, 8, 0, false);
  pr.MaybeUpdate(4);
  pr.BecomeReplicate();
  EXPECT_EQ(pr.next(), 5u);
  EXPECT_EQ(pr.state(), ProgressState::kReplicate);
}

}  // namespace
}  // namespace raftkv::raft::tracker
