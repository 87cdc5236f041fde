// The checks have teeth: each test feeds the checker a sequence of observations that breaks
// exactly one property and expects that property to be reported (and a correct sequence to
// pass).
#include "sim/safety_checker.h"

#include "gtest/gtest.h"

namespace raftkv::sim {
namespace {

raftpb::Entry E(uint64_t index, uint64_t term, std::string data = "") {
  raftpb::Entry e;
  e.set_index(index);
  e.set_term(term);
  e.set_data(data.empty() ? "x" + std::to_string(index) + "t" + std::to_string(term) : data);
  return e;
}

raftpb::HardState Hs(uint64_t term, uint64_t commit) {
  raftpb::HardState hs;
  hs.set_term(term);
  hs.set_commit(commit);
  return hs;
}

std::string PropertyOf(const SafetyChecker& c) {
  return c.violation().has_value() ? c.violation()->property : "none";
}

TEST(SafetyChecker, OneLeaderPerTermPasses) {
  SafetyChecker c;
  c.ObserveRole(1, 1, raft::StateRole::kLeader);
  c.ObserveRole(1, 1, raft::StateRole::kLeader);
  c.ObserveRole(2, 2, raft::StateRole::kLeader);
  EXPECT_FALSE(c.failed());
}

TEST(SafetyChecker, TwoLeadersInOneTermViolateElectionSafety) {
  SafetyChecker c;
  c.ObserveRole(1, 3, raft::StateRole::kLeader);
  c.ObserveRole(2, 3, raft::StateRole::kLeader);
  EXPECT_EQ(PropertyOf(c), kElectionSafety);
}

TEST(SafetyChecker, LeaderReplacingItsOwnEntriesViolatesLeaderAppendOnly) {
  SafetyChecker c;
  c.ObservePersistEntries(1, 2, false, {E(1, 2), E(2, 2)});
  // Rewriting from index 1 with only its first entry drops entry 2 (Storage semantics).
  c.ObservePersistEntries(1, 2, true, {E(1, 2)});
  EXPECT_EQ(PropertyOf(c), kLeaderAppendOnly);
}

TEST(SafetyChecker, FollowerReplacingUncommittedEntriesIsAllowed) {
  SafetyChecker c;
  c.ObservePersistEntries(1, 1, false, {E(1, 1), E(2, 1)});
  c.ObservePersistEntries(1, 2, false, {E(2, 2)});
  EXPECT_FALSE(c.failed());
}

TEST(SafetyChecker, SameIndexAndTermWithDifferentHistoryViolatesLogMatching) {
  SafetyChecker c;
  c.ObservePersistEntries(1, 1, false, {E(1, 1, "a"), E(2, 1, "b")});
  c.ObservePersistEntries(2, 1, false, {E(1, 1, "z"), E(2, 1, "b")});
  EXPECT_EQ(PropertyOf(c), kLogMatching);
}

TEST(SafetyChecker, CommittingDifferentEntriesAtOneIndexViolatesStateMachineSafety) {
  SafetyChecker c;
  c.ObservePersistEntries(1, 1, false, {E(1, 1, "a")});
  c.ObservePersistHardState(1, Hs(1, 1));
  c.ObservePersistEntries(2, 2, false, {E(1, 2, "b")});
  c.ObservePersistHardState(2, Hs(2, 1));
  EXPECT_EQ(PropertyOf(c), kStateMachineSafety);
}

TEST(SafetyChecker, ApplyingDifferentEntriesAtOneIndexViolatesStateMachineSafety) {
  SafetyChecker c;
  c.ObservePersistEntries(1, 1, false, {E(1, 1, "a")});
  c.ObservePersistHardState(1, Hs(1, 1));
  c.ObserveApply(1, E(1, 1, "a"), 7);
  c.ObserveApply(2, E(1, 1, "b"), 7);
  EXPECT_EQ(PropertyOf(c), kStateMachineSafety);
}

TEST(SafetyChecker, ReplicasWithDifferentStatesAtOneIndexViolateStateMachineSafety) {
  SafetyChecker c;
  c.ObservePersistEntries(1, 1, false, {E(1, 1, "a")});
  c.ObservePersistHardState(1, Hs(1, 1));
  c.ObserveApply(1, E(1, 1, "a"), 7);
  c.ObserveApply(2, E(1, 1, "a"), 8);
  EXPECT_EQ(PropertyOf(c), kStateMachineSafety);
}

TEST(SafetyChecker, CommitIndexGoingBackViolatesMonotonicity) {
  SafetyChecker c;
  c.ObservePersistEntries(1, 1, false, {E(1, 1), E(2, 1)});
  c.ObservePersistHardState(1, Hs(1, 2));
  c.ObservePersistHardState(1, Hs(1, 1));
  EXPECT_EQ(PropertyOf(c), kCommitMonotonic);
}

TEST(SafetyChecker, RestartBelowPersistedCommitViolatesMonotonicity) {
  SafetyChecker c;
  c.ObservePersistEntries(1, 1, false, {E(1, 1), E(2, 1)});
  c.ObservePersistHardState(1, Hs(1, 2));
  c.ObserveRestart(1, 1, 0, 0);
  EXPECT_EQ(PropertyOf(c), kCommitMonotonic);
}

TEST(SafetyChecker, RestartMayLoseAnUnsyncedCommitIndex) {
  SafetyChecker c;
  c.ObservePersistEntries(1, 1, false, {E(1, 1), E(2, 1)});
  c.ObservePersistHardState(1, Hs(1, 1));
  c.ObservePersistHardState(1, Hs(1, 2), /*synced=*/false);
  c.ObserveRestart(1, 1, 0, 0);
  EXPECT_FALSE(c.failed());
}

TEST(SafetyChecker, RestartBelowSyncedCommitViolatesMonotonicity) {
  SafetyChecker c;
  c.ObservePersistEntries(1, 1, false, {E(1, 1), E(2, 1)});
  c.ObservePersistHardState(1, Hs(1, 2), /*synced=*/false);
  c.ObserveSync(1);
  c.ObserveRestart(1, 1, 0, 0);
  EXPECT_EQ(PropertyOf(c), kCommitMonotonic);
}

TEST(SafetyChecker, CommitBelowRecoveredAfterRestartViolatesMonotonicity) {
  SafetyChecker c;
  c.ObservePersistEntries(1, 1, false, {E(1, 1), E(2, 1), E(3, 1)});
  c.ObservePersistHardState(1, Hs(1, 1));
  c.ObservePersistHardState(1, Hs(1, 3), /*synced=*/false);
  c.ObserveRestart(1, 2, 0, 0);
  c.ObservePersistHardState(1, Hs(1, 1));
  EXPECT_EQ(PropertyOf(c), kCommitMonotonic);
}

TEST(SafetyChecker, ReplacingAnEntryCommittedBeforeALossyRestartViolatesSafety) {
  SafetyChecker c;
  c.ObservePersistEntries(1, 1, false, {E(1, 1), E(2, 1)});
  c.ObservePersistHardState(1, Hs(1, 1));
  c.ObservePersistHardState(1, Hs(1, 2), /*synced=*/false);
  c.ObserveRestart(1, 1, 0, 0);
  c.ObservePersistEntries(1, 2, false, {E(2, 2)});
  EXPECT_EQ(PropertyOf(c), kStateMachineSafety);
}

TEST(SafetyChecker, LeaderWithoutACommittedEntryViolatesLeaderCompleteness) {
  SafetyChecker c;
  c.ObservePersistEntries(1, 1, false, {E(1, 1), E(2, 1)});
  c.ObservePersistHardState(1, Hs(1, 2));
  c.ObservePersistEntries(2, 1, false, {E(1, 1)});
  c.ObserveLeaderLog(2, 2);
  EXPECT_EQ(PropertyOf(c), kLeaderCompleteness);
}

TEST(SafetyChecker, LeaderOfAnOlderTermNeedNotHoldLaterCommits) {
  SafetyChecker c;
  c.ObservePersistEntries(1, 3, false, {E(1, 3)});
  c.ObservePersistHardState(1, Hs(3, 1));
  // A candidate of term 2 whose votes arrive late may still win term 2 without entry 1.
  c.ObserveLeaderLog(2, 2);
  EXPECT_FALSE(c.failed());
}

TEST(SafetyChecker, AcknowledgedWriteThatIsNotCommittedIsReportedLost) {
  SafetyChecker c;
  c.ObservePersistEntries(1, 1, false, {E(1, 1, "put a")});
  c.ObservePersistHardState(1, Hs(1, 1));
  c.ObserveAcknowledgedWrite("put a", 1, 1, "put a");
  c.ObserveAcknowledgedWrite("put b", 2, 1, "put b");
  c.CheckAcknowledgedWrites(0);
  EXPECT_EQ(PropertyOf(c), kAckedWriteLost);
}

TEST(SafetyChecker, AcknowledgedWriteMissingFromFinalLeaderIsReportedLost) {
  SafetyChecker c;
  c.ObservePersistEntries(1, 1, false, {E(1, 1, "put a")});
  c.ObservePersistHardState(1, Hs(1, 1));
  c.ObserveAcknowledgedWrite("put a", 1, 1, "put a");
  c.ObservePersistEntries(2, 2, false, {E(1, 2, "other")});
  c.CheckAcknowledgedWrites(2);
  EXPECT_EQ(PropertyOf(c), kAckedWriteLost);
}

TEST(SafetyChecker, FirstViolationIsKept) {
  SafetyChecker c;
  c.ObserveRole(1, 1, raft::StateRole::kLeader);
  c.ObserveRole(2, 1, raft::StateRole::kLeader);
  c.ObservePersistEntries(1, 1, false, {E(1, 1), E(2, 1)});
  c.ObservePersistHardState(1, Hs(1, 2));
  c.ObservePersistHardState(1, Hs(1, 1));
  EXPECT_EQ(PropertyOf(c), kElectionSafety);
}

}  // namespace
}  // namespace raftkv::sim
