#include "raftkv/raft/memory_storage.h"

#include "gtest/gtest.h"

namespace raftkv::raft {
namespace {

raftpb::Entry E(uint64_t index, uint64_t term, std::string data = "") {
  raftpb::Entry e;
  e.set_index(index);
  e.set_term(term);
  e.set_data(std::move(data));
  return e;
}

// Storage holding entries 3..5 (terms 3, 4, 5) after a snapshot at (3, 3), like etcd's tests.
class MemoryStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    raftpb::Snapshot snap;
    snap.mutable_metadata()->set_index(3);
    snap.mutable_metadata()->set_term(3);
    ASSERT_TRUE(storage_.ApplySnapshot(snap).ok());
    ASSERT_TRUE(storage_.Append({E(4, 4), E(5, 5)}).ok());
  }
  MemoryStorage storage_;
};

TEST_F(MemoryStorageTest, IndexesFollowTheSnapshot) {
  EXPECT_EQ(storage_.FirstIndex(), 4u);
  EXPECT_EQ(storage_.LastIndex(), 5u);
}

TEST_F(MemoryStorageTest, TermOfTheSnapshotIndexIsKept) {
  EXPECT_EQ(*storage_.Term(3), 3u);
  EXPECT_EQ(*storage_.Term(5), 5u);
  EXPECT_TRUE(IsCompacted(storage_.Term(2).status()));
  EXPECT_TRUE(raft::IsUnavailable(storage_.Term(6).status()));
}

TEST_F(MemoryStorageTest, EntriesBeforeFirstIndexAreCompacted) {
  EXPECT_TRUE(IsCompacted(storage_.Entries(3, 5, kNoLimit).status()));
}

TEST_F(MemoryStorageTest, EntriesAreLimitedBySizeButNeverEmpty) {
  ASSERT_TRUE(storage_.Append({E(6, 5, std::string(100, 'x'))}).ok());
  auto all = storage_.Entries(4, 7, kNoLimit);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  auto one = storage_.Entries(4, 7, 0);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 1u);
}

TEST_F(MemoryStorageTest, AppendOverwritesTheConflictingSuffix) {
  ASSERT_TRUE(storage_.Append({E(5, 6), E(6, 6)}).ok());
  EXPECT_EQ(storage_.LastIndex(), 6u);
  EXPECT_EQ(*storage_.Term(5), 6u);
}

TEST_F(MemoryStorageTest, AppendIgnoresCompactedEntries) {
  ASSERT_TRUE(storage_.Append({E(2, 2), E(3, 3), E(4, 4), E(5, 5), E(6, 5)}).ok());
  EXPECT_EQ(storage_.FirstIndex(), 4u);
  EXPECT_EQ(storage_.LastIndex(), 6u);
}

TEST_F(MemoryStorageTest, AppendWithAGapIsRefused) {
  EXPECT_FALSE(storage_.Append({E(7, 5)}).ok());
}

TEST_F(MemoryStorageTest, CompactKeepsTheTermOfTheCompactionPoint) {
  ASSERT_TRUE(storage_.Compact(4).ok());
  EXPECT_EQ(storage_.FirstIndex(), 5u);
  EXPECT_EQ(*storage_.Term(4), 4u);
  EXPECT_TRUE(IsCompacted(storage_.Compact(4)));
  EXPECT_FALSE(storage_.Compact(9).ok());
}

TEST_F(MemoryStorageTest, CreateSnapshotRecordsIndexTermAndConfState) {
  raftpb::ConfState cs;
  cs.add_voters(1);
  cs.add_voters(2);
  auto snap = storage_.CreateSnapshot(5, &cs, "data");
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->metadata().index(), 5u);
  EXPECT_EQ(snap->metadata().term(), 5u);
  EXPECT_EQ(snap->metadata().conf_state().voters_size(), 2);
  EXPECT_EQ(snap->data(), "data");
  EXPECT_TRUE(IsSnapshotOutOfDate(storage_.CreateSnapshot(4, nullptr, "").status()));
}

TEST_F(MemoryStorageTest, ApplyingAnOlderSnapshotIsRefused) {
  raftpb::Snapshot old;
  old.mutable_metadata()->set_index(2);
  old.mutable_metadata()->set_term(2);
  EXPECT_TRUE(IsSnapshotOutOfDate(storage_.ApplySnapshot(old)));
}

TEST(MemoryStorageBootstrapTest, BootstrapSetsTheInitialConfState) {
  MemoryStorage s;
  raftpb::ConfState cs;
  cs.add_voters(1);
  ASSERT_TRUE(s.Bootstrap(cs).ok());
  raftpb::HardState hs;
  raftpb::ConfState got;
  ASSERT_TRUE(s.InitialState(&hs, &got).ok());
  EXPECT_EQ(got.voters_size(), 1);
}

TEST(MemoryStorageBootstrapTest, BootstrapOfANonEmptyLogFails) {
  MemoryStorage s;
  ASSERT_TRUE(s.Append({E(1, 1)}).ok());
  EXPECT_EQ(s.Bootstrap(raftpb::ConfState()).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(MemoryStorageBootstrapTest, HardStateRoundTrips) {
  MemoryStorage s;
  raftpb::HardState hs;
  hs.set_term(3);
  hs.set_vote(2);
  s.SetHardState(hs);
  raftpb::HardState got;
  raftpb::ConfState cs;
  ASSERT_TRUE(s.InitialState(&got, &cs).ok());
  EXPECT_EQ(got.term(), 3u);
  EXPECT_EQ(got.vote(), 2u);
}

}  // namespace
}  // namespace raftkv::raft
