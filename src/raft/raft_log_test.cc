#include "raft/raft_log.h"

#include <memory>

#include "gtest/gtest.h"
#include "raftkv/raft/memory_storage.h"

namespace raftkv::raft {
namespace {

raftpb::Entry E(uint64_t index, uint64_t term, std::string data = "") {
  raftpb::Entry e;
  e.set_index(index);
  e.set_term(term);
  e.set_data(std::move(data));
  return e;
}

std::vector<raftpb::Entry> Terms(uint64_t first_index, std::vector<uint64_t> terms) {
  std::vector<raftpb::Entry> out;
  for (uint64_t t : terms) out.push_back(E(first_index++, t));
  return out;
}

class RaftLogTest : public ::testing::Test {
 protected:
  // A log whose stable part is `stored` and whose unstable tail is `unstable`.
  std::unique_ptr<RaftLog> MakeLog(std::vector<raftpb::Entry> stored,
                                   std::vector<raftpb::Entry> unstable = {},
                                   uint64_t max_applying_bytes = kNoLimit) {
    EXPECT_TRUE(storage_.Append(stored).ok());
    auto log = std::make_unique<RaftLog>(&storage_, &logger_, max_applying_bytes);
    log->Append(unstable);
    return log;
  }

  MemoryStorage storage_;
  DiscardLogger logger_;
};

TEST_F(RaftLogTest, LastIndexCoversStableAndUnstable) {
  auto log = MakeLog(Terms(1, {1, 1}), Terms(3, {2}));
  EXPECT_EQ(log->FirstIndex(), 1u);
  EXPECT_EQ(log->LastIndex(), 3u);
  EXPECT_EQ(log->LastTerm(), 2u);
}

TEST_F(RaftLogTest, TermOutOfRangeIsAnError) {
  auto log = MakeLog(Terms(1, {1, 2}));
  EXPECT_EQ(*log->Term(0), 0u);  // the dummy before the first entry
  EXPECT_EQ(*log->Term(2), 2u);
  EXPECT_TRUE(raft::IsUnavailable(log->Term(3).status()));
}

TEST_F(RaftLogTest, TermBeforeCompactionPointIsCompacted) {
  auto log = MakeLog(Terms(1, {1, 2, 3, 4}));
  ASSERT_TRUE(storage_.Compact(2).ok());
  auto fresh = std::make_unique<RaftLog>(&storage_, &logger_, kNoLimit);
  EXPECT_EQ(*fresh->Term(2), 2u);  // the compaction point keeps its term
  EXPECT_TRUE(IsCompacted(fresh->Term(1).status()));
}

TEST_F(RaftLogTest, UpToDateComparesLastTermThenLength) {
  auto log = MakeLog(Terms(1, {1, 2, 2}));
  EXPECT_TRUE(log->IsUpToDate(1, 3));   // higher last term wins, even if shorter
  EXPECT_FALSE(log->IsUpToDate(5, 1));  // lower last term loses, even if longer
  EXPECT_TRUE(log->IsUpToDate(3, 2));   // same term, same length
  EXPECT_FALSE(log->IsUpToDate(2, 2));  // same term, shorter
}

TEST_F(RaftLogTest, FindConflictReturnsTheFirstDifferingEntry) {
  auto log = MakeLog(Terms(1, {1, 2, 3}));
  EXPECT_EQ(log->FindConflict({}), 0u);
  EXPECT_EQ(log->FindConflict(Terms(1, {1, 2, 3})), 0u);
  EXPECT_EQ(log->FindConflict(Terms(2, {2, 3, 4})), 4u);  // only new entries
  EXPECT_EQ(log->FindConflict(Terms(2, {2, 4})), 3u);
  EXPECT_EQ(log->FindConflict(Terms(1, {4, 4})), 1u);
}

TEST_F(RaftLogTest, MaybeAppendRejectsOnPreviousEntryMismatch) {
  auto log = MakeLog(Terms(1, {1, 2, 3}));
  EXPECT_FALSE(log->MaybeAppend(3, 2, 3, Terms(4, {4})).has_value());
  EXPECT_FALSE(log->MaybeAppend(4, 3, 3, Terms(5, {4})).has_value());  // beyond our log
  EXPECT_EQ(log->LastIndex(), 3u);
}

TEST_F(RaftLogTest, MaybeAppendTruncatesOnlyFromTheFirstConflict) {
  auto log = MakeLog(Terms(1, {1, 2, 2, 2}));
  auto last = log->MaybeAppend(1, 1, 0, Terms(2, {2, 3}));
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(*last, 3u);
  EXPECT_EQ(log->LastIndex(), 3u);
  EXPECT_EQ(*log->Term(3), 3u);
  EXPECT_EQ(*log->Term(2), 2u);
}

TEST_F(RaftLogTest, DuplicatedAppendKeepsLaterMatchingEntries) {
  auto log = MakeLog(Terms(1, {1, 2, 2, 2}));
  // A delayed copy of an older append carrying a prefix of what we already have: nothing is
  // dropped, and the answer is the last index of the message, not of our log.
  auto last = log->MaybeAppend(1, 1, 0, Terms(2, {2}));
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(*last, 2u);
  EXPECT_EQ(log->LastIndex(), 4u);
}

TEST_F(RaftLogTest, MaybeAppendCommitsNoFurtherThanTheLastNewEntry) {
  auto log = MakeLog(Terms(1, {1, 1, 1, 1}));
  ASSERT_TRUE(log->MaybeAppend(1, 1, 10, Terms(2, {1})).has_value());
  EXPECT_EQ(log->committed(), 2u);
}

TEST_F(RaftLogTest, CommitNeverMovesBackwards) {
  auto log = MakeLog(Terms(1, {1, 1, 1}));
  log->CommitTo(3);
  log->CommitTo(1);
  EXPECT_EQ(log->committed(), 3u);
}

TEST_F(RaftLogTest, MaybeCommitRequiresTheTermToMatch) {
  auto log = MakeLog(Terms(1, {1, 2}));
  EXPECT_FALSE(log->MaybeCommit(2, 1));
  EXPECT_EQ(log->committed(), 0u);
  EXPECT_TRUE(log->MaybeCommit(2, 2));
  EXPECT_EQ(log->committed(), 2u);
}

TEST_F(RaftLogTest, FindConflictByTermSkipsEntriesOfHigherTerms) {
  // Index: 1 2 3 4 5 6 ; terms: 1 1 2 2 5 5
  auto log = MakeLog(Terms(1, {1, 1, 2, 2, 5, 5}));
  EXPECT_EQ(log->FindConflictByTerm(6, 3), (std::pair<uint64_t, uint64_t>{4, 2}));
  EXPECT_EQ(log->FindConflictByTerm(6, 5), (std::pair<uint64_t, uint64_t>{6, 5}));
  EXPECT_EQ(log->FindConflictByTerm(6, 0), (std::pair<uint64_t, uint64_t>{0, 0}));
  // An index past our end is first clamped to our last index.
  EXPECT_EQ(log->FindConflictByTerm(100, 2), (std::pair<uint64_t, uint64_t>{4, 2}));
}

TEST_F(RaftLogTest, NextCommittedEntriesStartAfterApplying) {
  auto log = MakeLog(Terms(1, {1, 1, 1}));
  log->CommitTo(2);
  auto ents = *log->NextCommittedEntries();
  ASSERT_EQ(ents.size(), 2u);
  log->AcceptApplying(2);
  EXPECT_FALSE(log->HasNextCommittedEntries());
  log->CommitTo(3);
  ents = *log->NextCommittedEntries();
  ASSERT_EQ(ents.size(), 1u);
  EXPECT_EQ(ents[0].index(), 3u);
}

TEST_F(RaftLogTest, NextCommittedEntriesIncludeUnstableOnes) {
  auto log = MakeLog(Terms(1, {1}), Terms(2, {1}));
  log->CommitTo(2);
  EXPECT_EQ(log->NextCommittedEntries()->size(), 2u);
}

TEST_F(RaftLogTest, NextCommittedEntriesRespectTheByteLimitButReturnAtLeastOne) {
  std::vector<raftpb::Entry> big = {E(1, 1, std::string(100, 'a')), E(2, 1, std::string(100, 'b')),
                                    E(3, 1, std::string(100, 'c'))};
  auto log = MakeLog(big, {}, 150);
  log->CommitTo(3);
  EXPECT_EQ(log->NextCommittedEntries()->size(), 1u);
}

TEST_F(RaftLogTest, SliceSpansStableAndUnstable) {
  auto log = MakeLog(Terms(1, {1, 1}), Terms(3, {2, 2}));
  auto s = log->Slice(2, 5, kNoLimit);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->size(), 3u);
  EXPECT_EQ((*s)[0].index(), 2u);
  EXPECT_EQ((*s)[2].index(), 4u);
}

TEST_F(RaftLogTest, RestoreMovesCommitToTheSnapshot) {
  auto log = MakeLog(Terms(1, {1, 1}));
  raftpb::Snapshot snap;
  snap.mutable_metadata()->set_index(10);
  snap.mutable_metadata()->set_term(3);
  log->Restore(snap);
  EXPECT_EQ(log->committed(), 10u);
  EXPECT_EQ(log->LastIndex(), 10u);
  EXPECT_EQ(log->FirstIndex(), 11u);
  EXPECT_EQ(*log->Term(10), 3u);
  EXPECT_FALSE(log->HasNextCommittedEntries());
}

TEST_F(RaftLogTest, AppliedToTracksTheApplication) {
  auto log = MakeLog(Terms(1, {1, 1, 1}));
  log->CommitTo(3);
  log->AcceptApplying(3);
  log->AppliedTo(2);
  EXPECT_EQ(log->applied(), 2u);
  EXPECT_EQ(log->applying(), 3u);
}

// The log's invariants protect committed data, so breaking one stops the process in every build
// type (the server ships without assertions) with a message that names the invariant, instead
// of going on with a log that lost or replaced committed entries (etcd-io/raft panics alike).
// These tests do not depend on NDEBUG: they pass in release builds too.
using RaftLogDeathTest = RaftLogTest;

TEST_F(RaftLogDeathTest, AppendThatConflictsWithACommittedEntryStopsTheNode) {
  auto log = MakeLog(Terms(1, {1, 1, 1}));
  log->CommitTo(3);
  // A leader that sends a different entry at index 2, which this follower already committed,
  // would make two different entries committed at one index (§5.4).
  EXPECT_DEATH(log->MaybeAppend(1, 1, 3, Terms(2, {2})),
               "invariant broken: .*entry 2 conflicts with the committed log \\(commit index 3\\)");
}

TEST_F(RaftLogDeathTest, AppendOverCommittedEntriesStopsTheNode) {
  auto log = MakeLog(Terms(1, {1, 1, 1}));
  log->CommitTo(2);
  EXPECT_DEATH(log->Append(Terms(2, {2})),
               "invariant broken: .*appending at index 2 would replace committed entries "
               "\\(commit index 2\\)");
}

TEST_F(RaftLogDeathTest, CommitBeyondTheLastIndexStopsTheNode) {
  auto log = MakeLog(Terms(1, {1, 1, 1}));
  EXPECT_DEATH(log->CommitTo(5), "invariant broken: .*commit index 5 is beyond the last index 3");
}

TEST_F(RaftLogDeathTest, ApplyingBeyondTheCommitIndexStopsTheNode) {
  auto log = MakeLog(Terms(1, {1, 1, 1}));
  log->CommitTo(2);
  EXPECT_DEATH(log->AcceptApplying(3),
               "invariant broken: .*applying up to 3 is beyond the commit index 2");
  EXPECT_DEATH(log->AppliedTo(3), "invariant broken: .*applied index 3 is outside \\[0, 2\\]");
}

TEST_F(RaftLogDeathTest, AppliedIndexMovingBackwardsStopsTheNode) {
  auto log = MakeLog(Terms(1, {1, 1, 1}));
  log->CommitTo(3);
  log->AcceptApplying(3);
  log->AppliedTo(3);
  EXPECT_DEATH(log->AppliedTo(2), "invariant broken: .*applied index 2 is outside \\[3, 3\\]");
}

TEST_F(RaftLogDeathTest, RestoringASnapshotBelowTheCommitIndexStopsTheNode) {
  auto log = MakeLog(Terms(1, {1, 1, 1}));
  log->CommitTo(3);
  raftpb::Snapshot snap;
  snap.mutable_metadata()->set_index(2);
  snap.mutable_metadata()->set_term(1);
  // The core restores only snapshots past its commit index; restoring an older one would move
  // commit backwards and drop committed entries.
  EXPECT_DEATH(log->Restore(snap),
               "invariant broken: .*snapshot at index 2 would move the commit index 3 backwards");
}

}  // namespace
}  // namespace raftkv::raft
