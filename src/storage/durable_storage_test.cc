// DurableStorage against the raft::Storage contract (the same answers MemoryStorage gives) and
// its own write operations.
#include "storage/durable_storage.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "io/fault_injection_env.h"
#include "storage/test_util.h"

namespace raftkv::storage {
namespace {

using testing::MakeEntries;
using testing::MakeEntry;
using testing::MakeHardState;

class DurableStorageTest : public ::testing::Test {
 protected:
  void SetUp() override { storage_ = Open(); }

  std::unique_ptr<DurableStorage> Open() {
    auto s = DurableStorage::Open(&env_, "/data", options_);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(*s) : nullptr;
  }

  void Reopen() {
    storage_.reset();
    storage_ = Open();
  }

  // Log 1..10 at term 1, snapshot at 5, compacted to 5.
  void MakeCompactedLog() {
    ASSERT_TRUE(storage_->Save(std::nullopt, MakeEntries(1, 11, 1), true).ok());
    ASSERT_TRUE(storage_->CreateSnapshot(5, nullptr, "five").ok());
    ASSERT_TRUE(storage_->Compact(5).ok());
  }

  io::FaultInjectionEnv env_{11};
  DurableStorageOptions options_{.wal = {.segment_bytes = 2048}, .entry_cache_bytes = 1 << 20};
  std::unique_ptr<DurableStorage> storage_;
};

TEST_F(DurableStorageTest, EmptyStorageHasFirstIndexOneAndLastIndexZero) {
  EXPECT_EQ(storage_->FirstIndex(), 1u);
  EXPECT_EQ(storage_->LastIndex(), 0u);
  EXPECT_EQ(*storage_->Term(0), 0u);
  EXPECT_TRUE(storage_->Entries(1, 1, raft::kNoLimit)->empty());
}

TEST_F(DurableStorageTest, EntriesAndTermBelowTheFirstIndexAreCompacted) {
  MakeCompactedLog();
  EXPECT_EQ(storage_->FirstIndex(), 6u);
  EXPECT_TRUE(raft::IsCompacted(storage_->Entries(5, 7, raft::kNoLimit).status()));
  EXPECT_TRUE(raft::IsCompacted(storage_->Term(4).status()));
  EXPECT_EQ(*storage_->Term(5), 1u);  // the compacted boundary keeps its term
}

TEST_F(DurableStorageTest, TermPastTheLastIndexIsUnavailable) {
  ASSERT_TRUE(storage_->Save(std::nullopt, MakeEntries(1, 4, 2), true).ok());
  EXPECT_TRUE(raft::IsUnavailable(storage_->Term(4).status()));
  EXPECT_EQ(*storage_->Term(3), 2u);
}

TEST_F(DurableStorageTest, EntriesPastTheLastIndexAreOutOfRange) {
  ASSERT_TRUE(storage_->Save(std::nullopt, MakeEntries(1, 4, 1), true).ok());
  EXPECT_EQ(storage_->Entries(1, 5, raft::kNoLimit).status().code(), absl::StatusCode::kOutOfRange);
}

TEST_F(DurableStorageTest, EntriesStopAtTheSizeLimitButReturnAtLeastOne) {
  ASSERT_TRUE(storage_->Save(std::nullopt, MakeEntries(1, 6, 1), true).ok());
  const uint64_t one = MakeEntry(1, 1).ByteSizeLong();
  EXPECT_EQ(storage_->Entries(1, 6, 0)->size(), 1u);
  EXPECT_EQ(storage_->Entries(1, 6, 2 * one + 1)->size(), 2u);
  EXPECT_EQ(storage_->Entries(1, 6, raft::kNoLimit)->size(), 5u);
}

TEST_F(DurableStorageTest, SaveOverwritesAConflictingSuffix) {
  ASSERT_TRUE(storage_->Save(std::nullopt, MakeEntries(1, 6, 1), true).ok());
  ASSERT_TRUE(storage_->Save(std::nullopt, MakeEntries(3, 5, 2), true).ok());
  EXPECT_EQ(storage_->LastIndex(), 4u);
  EXPECT_EQ(*storage_->Term(3), 2u);
  Reopen();
  EXPECT_EQ(storage_->LastIndex(), 4u);
  EXPECT_EQ(storage_->Entries(3, 5, raft::kNoLimit)->at(1).SerializeAsString(),
            MakeEntry(4, 2).SerializeAsString());
}

TEST_F(DurableStorageTest, SaveWithAGapIsInvalidArgument) {
  ASSERT_TRUE(storage_->Save(std::nullopt, MakeEntries(1, 3, 1), true).ok());
  EXPECT_EQ(storage_->Save(std::nullopt, MakeEntries(5, 6, 1), true).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(DurableStorageTest, SaveIgnoresEntriesAlreadyCompacted) {
  MakeCompactedLog();
  ASSERT_TRUE(storage_->Save(std::nullopt, MakeEntries(3, 12, 1), true).ok());
  EXPECT_EQ(storage_->FirstIndex(), 6u);
  EXPECT_EQ(storage_->LastIndex(), 11u);
}

TEST_F(DurableStorageTest, HardStateSurvivesReopen) {
  ASSERT_TRUE(storage_->Save(MakeHardState(4, 2, 0), {}, true).ok());
  Reopen();
  raftpb::HardState hs;
  raftpb::ConfState cs;
  ASSERT_TRUE(storage_->InitialState(&hs, &cs).ok());
  EXPECT_EQ(hs.term(), 4u);
  EXPECT_EQ(hs.vote(), 2u);
}

TEST_F(DurableStorageTest, BootstrapRecordsTheConfStateDurablyAndOnlyOnce) {
  raftpb::ConfState cs;
  cs.add_voters(1);
  cs.add_voters(2);
  ASSERT_TRUE(storage_->Bootstrap(cs).ok());
  Reopen();
  raftpb::HardState hs;
  raftpb::ConfState got;
  ASSERT_TRUE(storage_->InitialState(&hs, &got).ok());
  EXPECT_EQ(got.voters_size(), 2);
  EXPECT_EQ(storage_->Bootstrap(cs).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(DurableStorageTest, CreateSnapshotAtOrBelowTheCurrentOneIsOutOfDate) {
  MakeCompactedLog();
  EXPECT_TRUE(raft::IsSnapshotOutOfDate(storage_->CreateSnapshot(5, nullptr, "").status()));
  EXPECT_EQ(storage_->CreateSnapshot(11, nullptr, "").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(DurableStorageTest, CompactTwiceToTheSameIndexIsCompacted) {
  MakeCompactedLog();
  EXPECT_TRUE(raft::IsCompacted(storage_->Compact(5)));
}

TEST_F(DurableStorageTest, CompactPastTheNewestSnapshotIsRefused) {
  MakeCompactedLog();
  EXPECT_EQ(storage_->Compact(8).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(DurableStorageTest, SnapshotAndEntriesAfterItSurviveReopen) {
  MakeCompactedLog();
  Reopen();
  EXPECT_EQ(storage_->FirstIndex(), 6u);
  EXPECT_EQ(storage_->LastIndex(), 10u);
  auto snap = storage_->Snapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->metadata().index(), 5u);
  EXPECT_EQ(snap->data(), "five");
}

TEST_F(DurableStorageTest, EntriesAfterACompactionOfARestartedLogAreReadBack) {
  // A restart starts with a cold entry cache; compacting then must not make the cache claim
  // the entries that are still only on disk.
  ASSERT_TRUE(storage_->Save(std::nullopt, MakeEntries(1, 11, 1), true).ok());
  Reopen();
  ASSERT_TRUE(storage_->CreateSnapshot(5, nullptr, "five").ok());
  ASSERT_TRUE(storage_->Compact(5).ok());
  auto entries = storage_->Entries(6, 11, UINT64_MAX);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 5u);
  for (uint64_t i = 6; i <= 10; ++i) EXPECT_EQ((*entries)[i - 6].index(), i);
  ASSERT_TRUE(storage_->Save(std::nullopt, MakeEntries(11, 12, 1), true).ok());
  auto tail = storage_->Entries(10, 12, UINT64_MAX);
  ASSERT_TRUE(tail.ok()) << tail.status();
  ASSERT_EQ(tail->size(), 2u);
  EXPECT_EQ((*tail)[1].index(), 11u);
}

TEST_F(DurableStorageTest, ApplySnapshotReplacesTheWholeLog) {
  ASSERT_TRUE(storage_->Save(std::nullopt, MakeEntries(1, 6, 1), true).ok());
  raftpb::Snapshot snap;
  snap.mutable_metadata()->set_index(3);
  snap.mutable_metadata()->set_term(4);
  snap.set_data("from leader");
  ASSERT_TRUE(storage_->ApplySnapshot(snap).ok());
  EXPECT_EQ(storage_->FirstIndex(), 4u);
  EXPECT_EQ(storage_->LastIndex(), 3u);
  EXPECT_EQ(*storage_->Term(3), 4u);
  EXPECT_TRUE(raft::IsSnapshotOutOfDate(storage_->ApplySnapshot(snap)));
  Reopen();
  EXPECT_EQ(storage_->LastIndex(), 3u);
  EXPECT_EQ(storage_->Snapshot()->data(), "from leader");
}

TEST_F(DurableStorageTest, OldEntriesAreReadBackFromDiskWhenTheCacheIsSmall) {
  options_.entry_cache_bytes = 100;
  Reopen();
  std::vector<raftpb::Entry> entries = MakeEntries(1, 201, 3);
  for (const raftpb::Entry& e : entries) ASSERT_TRUE(storage_->Save(std::nullopt, {e}, false).ok());
  auto got = storage_->Entries(1, 201, raft::kNoLimit);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 200u);
  for (size_t i = 0; i < 200; ++i) {
    EXPECT_EQ((*got)[i].SerializeAsString(), entries[i].SerializeAsString());
  }
}

TEST_F(DurableStorageTest, EntriesReadFromDiskStopAtTheSizeLimit) {
  options_.entry_cache_bytes = 0;
  Reopen();
  ASSERT_TRUE(storage_->Save(std::nullopt, MakeEntries(1, 51, 1), true).ok());
  const uint64_t one = MakeEntry(1, 1).ByteSizeLong();
  auto got = storage_->Entries(1, 51, 3 * one);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[2].SerializeAsString(), MakeEntry(3, 1).SerializeAsString());
  EXPECT_EQ(storage_->Entries(10, 51, 0)->size(), 1u);
}

TEST_F(DurableStorageTest, CompactDeletesWholeSegmentsBelowTheSnapshot) {
  ASSERT_TRUE(storage_->Save(std::nullopt, MakeEntries(1, 301, 1), true).ok());
  for (uint64_t i = 301; i <= 400; ++i) {
    ASSERT_TRUE(storage_->Save(std::nullopt, {MakeEntry(i, 1)}, true).ok());
  }
  const size_t before = storage_->wal().segment_seqs().size();
  ASSERT_GT(before, 2u);
  ASSERT_TRUE(storage_->CreateSnapshot(390, nullptr, "s").ok());
  ASSERT_TRUE(storage_->Compact(390).ok());
  EXPECT_LT(storage_->wal().segment_seqs().size(), before);
  Reopen();
  EXPECT_EQ(storage_->FirstIndex(), 391u);
  EXPECT_EQ(storage_->LastIndex(), 400u);
  EXPECT_EQ(storage_->Entries(391, 401, raft::kNoLimit)->size(), 10u);
}

// The same behaviour on a real directory through the POSIX Env.
class DurableStoragePosixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/raftkv_storage_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    io::Env* env = io::Env::Default();
    auto names = env->ListDir(dir_);
    if (names.ok()) {
      for (const std::string& n : *names) (void)env->Remove(io::JoinPath(dir_, n));
    }
    ::rmdir(dir_.c_str());
  }
  std::string dir_;
  DurableStorageOptions options_{.wal = {.segment_bytes = 4096}};
};

TEST_F(DurableStoragePosixTest, LogSnapshotAndHardStateSurviveReopen) {
  {
    auto s = DurableStorage::Open(io::Env::Default(), dir_, options_);
    ASSERT_TRUE(s.ok()) << s.status();
    ASSERT_TRUE((*s)->Save(MakeHardState(2, 1, 50), MakeEntries(1, 201, 2), true).ok());
    ASSERT_TRUE((*s)->CreateSnapshot(100, nullptr, "hundred").ok());
    ASSERT_TRUE((*s)->Compact(100).ok());
  }
  auto s = DurableStorage::Open(io::Env::Default(), dir_, options_);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->FirstIndex(), 101u);
  EXPECT_EQ((*s)->LastIndex(), 200u);
  EXPECT_EQ((*s)->hard_state().commit(), 50u);
  EXPECT_EQ((*s)->Snapshot()->data(), "hundred");
  EXPECT_EQ((*s)->Entries(101, 201, raft::kNoLimit)->back().SerializeAsString(),
            MakeEntry(200, 2).SerializeAsString());
}

TEST_F(DurableStoragePosixTest, TwoOpensOfOneDirectoryConflictWithAnErrorNamingIt) {
  auto first = DurableStorage::Open(io::Env::Default(), dir_, options_);
  ASSERT_TRUE(first.ok());
  auto second = DurableStorage::Open(io::Env::Default(), dir_, options_);
  ASSERT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find(dir_), std::string_view::npos);
}

}  // namespace
}  // namespace raftkv::storage
