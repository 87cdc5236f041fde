#include "raft/unstable_log.h"

#include "gtest/gtest.h"

namespace raftkv::raft {
namespace {

raftpb::Entry E(uint64_t index, uint64_t term) {
  raftpb::Entry e;
  e.set_index(index);
  e.set_term(term);
  return e;
}

raftpb::Snapshot Snap(uint64_t index, uint64_t term) {
  raftpb::Snapshot s;
  s.mutable_metadata()->set_index(index);
  s.mutable_metadata()->set_term(term);
  return s;
}

TEST(UnstableLogTest, EmptyLogKnowsNoIndexes) {
  UnstableLog u(5);
  EXPECT_FALSE(u.MaybeFirstIndex().has_value());
  EXPECT_FALSE(u.MaybeLastIndex().has_value());
  EXPECT_FALSE(u.MaybeTerm(4).has_value());
}

TEST(UnstableLogTest, SnapshotGivesFirstAndLastIndex) {
  UnstableLog u(1);
  u.Restore(Snap(10, 3));
  EXPECT_EQ(u.MaybeFirstIndex(), 11u);
  EXPECT_EQ(u.MaybeLastIndex(), 10u);
  EXPECT_EQ(u.MaybeTerm(10), 3u);
  EXPECT_FALSE(u.MaybeTerm(9).has_value());
}

TEST(UnstableLogTest, TermOfEntries) {
  UnstableLog u(5);
  u.TruncateAndAppend({E(5, 1), E(6, 2)});
  EXPECT_EQ(u.MaybeTerm(5), 1u);
  EXPECT_EQ(u.MaybeTerm(6), 2u);
  EXPECT_FALSE(u.MaybeTerm(7).has_value());
  EXPECT_FALSE(u.MaybeTerm(4).has_value());
}

TEST(UnstableLogTest, AppendInTheMiddleReplacesTheSuffix) {
  UnstableLog u(5);
  u.TruncateAndAppend({E(5, 1), E(6, 1), E(7, 1)});
  u.TruncateAndAppend({E(6, 2)});
  ASSERT_EQ(u.entries().size(), 2u);
  EXPECT_EQ(u.MaybeTerm(6), 2u);
  EXPECT_EQ(u.MaybeLastIndex(), 6u);
}

TEST(UnstableLogTest, AppendBeforeTheOffsetReplacesEverything) {
  UnstableLog u(5);
  u.TruncateAndAppend({E(5, 1), E(6, 1)});
  u.TruncateAndAppend({E(4, 2), E(5, 2)});
  EXPECT_EQ(u.offset(), 4u);
  EXPECT_EQ(u.MaybeLastIndex(), 5u);
  EXPECT_EQ(u.MaybeTerm(5), 2u);
}

TEST(UnstableLogTest, NextEntriesSkipsWhatIsInProgress) {
  UnstableLog u(5);
  u.TruncateAndAppend({E(5, 1), E(6, 1)});
  EXPECT_EQ(u.NextEntries().size(), 2u);
  u.AcceptInProgress();
  EXPECT_TRUE(u.NextEntries().empty());
  u.TruncateAndAppend({E(7, 1)});
  ASSERT_EQ(u.NextEntries().size(), 1u);
  EXPECT_EQ(u.NextEntries()[0].index(), 7u);
}

TEST(UnstableLogTest, OverwritingAnInProgressEntryHandsTheReplacementOutAgain) {
  UnstableLog u(5);
  u.TruncateAndAppend({E(5, 1), E(6, 1)});
  u.AcceptInProgress();
  u.TruncateAndAppend({E(6, 2)});
  ASSERT_EQ(u.NextEntries().size(), 1u);
  EXPECT_EQ(u.NextEntries()[0].term(), 2u);
}

TEST(UnstableLogTest, StableToDropsThePersistedPrefix) {
  UnstableLog u(5);
  u.TruncateAndAppend({E(5, 1), E(6, 1), E(7, 1)});
  u.StableTo(6, 1);
  EXPECT_EQ(u.offset(), 7u);
  ASSERT_EQ(u.entries().size(), 1u);
}

TEST(UnstableLogTest, StableToWithAStaleTermIsIgnored) {
  UnstableLog u(5);
  u.TruncateAndAppend({E(5, 1), E(6, 2)});
  // The application persisted (6, 1), which has since been replaced by (6, 2).
  u.StableTo(6, 1);
  EXPECT_EQ(u.offset(), 5u);
  EXPECT_EQ(u.entries().size(), 2u);
}

TEST(UnstableLogTest, StableSnapToClearsOnlyTheMatchingSnapshot) {
  UnstableLog u(1);
  u.Restore(Snap(10, 3));
  u.StableSnapTo(9);
  EXPECT_TRUE(u.snapshot().has_value());
  u.StableSnapTo(10);
  EXPECT_FALSE(u.snapshot().has_value());
}

TEST(UnstableLogTest, RestoreDropsEntries) {
  UnstableLog u(5);
  u.TruncateAndAppend({E(5, 1), E(6, 1)});
  u.Restore(Snap(20, 4));
  EXPECT_TRUE(u.entries().empty());
  EXPECT_EQ(u.offset(), 21u);
  EXPECT_NE(u.NextSnapshot(), nullptr);
  u.AcceptInProgress();
  EXPECT_EQ(u.NextSnapshot(), nullptr);
}

TEST(UnstableLogTest, SliceReturnsTheRange) {
  UnstableLog u(5);
  u.TruncateAndAppend({E(5, 1), E(6, 1), E(7, 2)});
  auto s = u.Slice(6, 8);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].index(), 6u);
  EXPECT_EQ(s[1].index(), 7u);
}

// Appending after a gap would fill the hole with empty entries that were never in any leader's
// log; the log stops the process instead, in every build type.
TEST(UnstableLogDeathTest, AppendThatLeavesAGapStopsTheNode) {
  UnstableLog u(5);
  u.TruncateAndAppend({E(5, 1), E(6, 1)});
  EXPECT_DEATH(u.TruncateAndAppend({E(9, 2)}),
               "invariant broken: .*appending at index 9 leaves a gap after the last index 6");
}

TEST(UnstableLogDeathTest, SliceOutsideTheUnstableEntriesStopsTheNode) {
  UnstableLog u(5);
  u.TruncateAndAppend({E(5, 1), E(6, 1)});
  EXPECT_DEATH(u.Slice(5, 8),
               "invariant broken: .*unstable slice \\[5, 8\\) is outside \\[5, 7\\)");
}

}  // namespace
}  // namespace raftkv::raft
