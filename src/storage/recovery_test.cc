// What DurableStorage finds after the kinds of damage and interruption a disk can deliver.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cerrno>

#include "io/error_injection_env.h"
#include "io/fault_injection_env.h"
#include "storage/durable_storage.h"
#include "storage/snapshot_file.h"
#include "storage/test_util.h"

namespace raftkv::storage {
namespace {

using testing::MakeEntries;
using testing::MakeEntry;
using testing::MakeHardState;

// Offsets of the records in a segment's bytes; the sync points (framing that starts a write
// issued after a sync) only when asked for.
std::vector<uint64_t> RecordOffsets(const std::string& data, bool with_sync_points = false) {
  std::vector<uint64_t> offsets;
  uint64_t offset = 0;
  DecodedRecord r;
  while (offset < data.size() &&
         DecodeRecord(std::string_view(data).substr(offset), &r) == DecodeResult::kOk) {
    if (r.type != kSyncPoint || with_sync_points) offsets.push_back(offset);
    offset += r.size_bytes;
  }
  return offsets;
}

class RecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override { options_.wal.logger = &logger_; }

  absl::StatusOr<std::unique_ptr<DurableStorage>> Open(io::Env* env = nullptr) {
    return DurableStorage::Open(env != nullptr ? env : &env_, "/data", options_);
  }

  // Writes entries 1..n, each synced on its own, and closes the storage.
  void WriteSynced(uint64_t n) {
    auto s = Open();
    ASSERT_TRUE(s.ok()) << s.status();
    for (uint64_t i = 1; i <= n; ++i) {
      ASSERT_TRUE((*s)->Save(std::nullopt, {MakeEntry(i, 1)}, true).ok());
    }
  }

  const std::string segment1_ = "/data/" + SegmentFileName(1);
  io::FaultInjectionEnv env_{5};
  testing::CapturingLogger logger_;
  DurableStorageOptions options_{.wal = {.segment_bytes = 64 << 10}};
};

TEST_F(RecoveryTest, TornTailIsCutOffWithALogLineSayingHowManyBytes) {
  WriteSynced(6);
  std::string data = *env_.Contents(segment1_);
  const std::vector<uint64_t> offsets = RecordOffsets(data);
  ASSERT_EQ(offsets.size(), 7u);  // header + 6 entries
  // The last entry's write stopped halfway: its second half is still the preallocated zeros.
  const uint64_t last = offsets.back();
  const uint64_t half = (data.size() > last + 16 ? 12 : 4);
  for (uint64_t i = last + half; i < data.size(); ++i) data[i] = '\0';
  ASSERT_TRUE(env_.SetContents(segment1_, data).ok());

  auto s = Open();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->LastIndex(), 5u);
  EXPECT_GT((*s)->dropped_tail_bytes(), 0u);
  EXPECT_TRUE(logger_.Contains(fmt::format("dropped a torn tail of {} bytes at offset {}",
                                           (*s)->dropped_tail_bytes(), last)))
      << (logger_.lines.empty() ? "no log" : logger_.lines.front());
}

TEST_F(RecoveryTest, AfterCuttingATornTailTheLogAcceptsNewEntriesAndReopensCleanly) {
  WriteSynced(6);
  std::string data = *env_.Contents(segment1_);
  const uint64_t last = RecordOffsets(data).back();
  ASSERT_TRUE(env_.CorruptByte(segment1_, last + 9, 0x40).ok());
  {
    auto s = Open();
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Save(std::nullopt, {MakeEntry(6, 2)}, true).ok());
  }
  logger_.lines.clear();
  auto s = Open();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*(*s)->Term(6), 2u);
  EXPECT_EQ((*s)->dropped_tail_bytes(), 0u);
}

TEST_F(RecoveryTest, BitFlipInTheLastRecordIsTreatedAsATornTail) {
  WriteSynced(6);
  const uint64_t last = RecordOffsets(*env_.Contents(segment1_)).back();
  ASSERT_TRUE(env_.CorruptByte(segment1_, last + 10, 0x01).ok());
  auto s = Open();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->LastIndex(), 5u);
  EXPECT_TRUE(logger_.Contains("torn tail"));
}

TEST_F(RecoveryTest, BitFlipInTheMiddleIsDataLossNamingFileAndOffset) {
  WriteSynced(6);
  const uint64_t third = RecordOffsets(*env_.Contents(segment1_))[3];
  ASSERT_TRUE(env_.CorruptByte(segment1_, third + 10, 0x01).ok());
  auto s = Open();
  ASSERT_EQ(s.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.status().message().find(segment1_), std::string_view::npos);
  EXPECT_NE(s.status().message().find(fmt::format("offset {}", third)), std::string_view::npos)
      << s.status();
}

// A power cut while one write of several pages was in the page cache: the kernel may have
// written its pages back in any order, so its last page can be on disk while its first is
// still the preallocated zeros. The records after the hole were never synced, so they were
// never acknowledged: the open cuts the whole unsynced write off and keeps everything synced.
TEST_F(RecoveryTest, ATornMultiPageWriteWhoseLastPageReachedTheDiskIsCutOffKeepingSyncedRecords) {
  constexpr uint64_t kPage = 4096;
  WriteSynced(6);
  {
    auto s = Open();
    ASSERT_TRUE(s.ok()) << s.status();
    std::vector<raftpb::Entry> big;
    for (uint64_t i = 7; i <= 10; ++i) big.push_back(MakeEntry(i, 1, std::string(3000, 'x')));
    // Not synced: the crash comes before the fdatasync returns.
    ASSERT_TRUE((*s)->Save(MakeHardState(1, 1, 10), big, /*must_sync=*/false).ok());
  }
  const std::string written = *env_.Contents(segment1_);
  env_.Crash(/*tear_last_write=*/false);
  std::string disk = *env_.Contents(segment1_);
  const uint64_t write_start = RecordOffsets(disk, true).back() + 1;    // inside the first lost one
  const uint64_t write_end = RecordOffsets(written, true).back() + 32;  // past its hard state
  // Only the write's last page (holding its hard state record) reached the disk.
  const uint64_t last_page = (write_end - 32) / kPage * kPage;
  ASSERT_GT(last_page, write_start) << "the write must span several pages";
  disk.replace(last_page, write_end - last_page, written, last_page, write_end - last_page);
  DecodedRecord hard_state;
  ASSERT_EQ(DecodeRecord(std::string_view(disk).substr(write_end - 32), &hard_state),
            DecodeResult::kOk)
      << "a valid record must follow the hole for this test to mean anything";
  ASSERT_TRUE(env_.SetContents(segment1_, disk).ok());

  auto s = Open();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->LastIndex(), 6u);
  auto entries = (*s)->Entries(1, 7, raft::kNoLimit);
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_EQ(entries->size(), 6u);
  EXPECT_GT((*s)->dropped_tail_bytes(), 0u);
  EXPECT_TRUE(logger_.Contains("torn tail")) << (logger_.lines.empty() ? "" : logger_.lines[0]);
  EXPECT_TRUE(
      logger_.Contains(fmt::format("the valid records from offset {} on belong to the "
                                   "same unsynced stretch",
                                   write_end - 32)))
      << (logger_.lines.empty() ? "" : logger_.lines[0]);
  // The cut is durable: the next open finds a clean log.
  s->reset();
  logger_.lines.clear();
  s = Open();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->dropped_tail_bytes(), 0u);
  EXPECT_EQ((*s)->LastIndex(), 6u);
}

// The same hole — a page of zeros where records were — inside records that later writes
// prove were synced (they were written after the fdatasync that covered the hole returned) is
// not a torn write but lost data: the open refuses it, naming the segment and offset.
TEST_F(RecoveryTest,
       AHoleInsideSyncedRecordsFollowedByLaterWritesIsDataLossNamingSegmentAndOffset) {
  constexpr uint64_t kPage = 4096;
  {
    auto s = Open();
    ASSERT_TRUE(s.ok());
    for (uint64_t i = 1; i <= 8; ++i) {
      ASSERT_TRUE((*s)->Save(std::nullopt, {MakeEntry(i, 1, std::string(3000, 'y'))}, true).ok());
    }
  }
  std::string disk = *env_.Contents(segment1_);
  const uint64_t hole = kPage;  // the second page, well before the last record
  const std::vector<uint64_t> offsets = RecordOffsets(disk, /*with_sync_points=*/true);
  uint64_t damaged = 0;  // the record the hole starts in
  for (uint64_t o : offsets) {
    if (o <= hole) damaged = o;
  }
  ASSERT_LT(hole + kPage, offsets.back());
  disk.replace(hole, kPage, std::string(kPage, '\0'));
  ASSERT_TRUE(env_.SetContents(segment1_, disk).ok());

  auto s = Open();
  ASSERT_EQ(s.status().code(), absl::StatusCode::kDataLoss) << s.status();
  EXPECT_NE(s.status().message().find(segment1_), std::string_view::npos) << s.status();
  EXPECT_NE(s.status().message().find(fmt::format("offset {}", damaged)), std::string_view::npos)
      << s.status();
}

TEST_F(RecoveryTest, DamageAtTheEndOfAnOlderSegmentIsDataLoss) {
  options_.wal.segment_bytes = 512;
  WriteSynced(40);
  const uint64_t last = RecordOffsets(*env_.Contents(segment1_)).back();
  ASSERT_TRUE(env_.CorruptByte(segment1_, last + 10, 0x01).ok());
  auto s = Open();
  ASSERT_EQ(s.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.status().message().find("not the newest segment"), std::string_view::npos);
}

TEST_F(RecoveryTest, EnospcDuringAppendFailsTheStorageAndReopenHasEverythingAcknowledged) {
  io::ErrorInjectionEnv errors(&env_);
  {
    auto s = Open(&errors);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Save(MakeHardState(1, 1, 3), MakeEntries(1, 4, 1), true).ok());
    errors.FailNth(io::EnvOp::kWrite, 1, ENOSPC);
    const absl::Status failed = (*s)->Save(std::nullopt, {MakeEntry(4, 1)}, true);
    EXPECT_EQ(failed.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_NE(failed.message().find("No space left on device"), std::string_view::npos);
    errors.ClearFailures();
    EXPECT_FALSE((*s)->Save(std::nullopt, {MakeEntry(4, 1)}, true).ok());  // stays failed
    EXPECT_FALSE((*s)->health().ok());
  }
  env_.Crash();
  auto s = Open();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->LastIndex(), 3u);
  EXPECT_EQ((*s)->hard_state().commit(), 3u);
  EXPECT_TRUE((*s)->Save(std::nullopt, {MakeEntry(4, 1)}, true).ok());
}

TEST_F(RecoveryTest, EnospcWhilePreallocatingTheNextSegmentIsAClearError) {
  options_.wal.segment_bytes = 512;
  io::ErrorInjectionEnv errors(&env_);
  auto s = Open(&errors);
  ASSERT_TRUE(s.ok());
  errors.FailAll(io::EnvOp::kAllocate, ENOSPC);
  absl::Status status;
  for (uint64_t i = 1; i <= 40 && status.ok(); ++i) {
    status = (*s)->Save(std::nullopt, {MakeEntry(i, 1)}, true);
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(status.message().find("fallocate"), std::string_view::npos);
}

TEST_F(RecoveryTest, FailedFsyncFailsTheStorageForGoodAndIsNeverRetried) {
  io::ErrorInjectionEnv errors(&env_);
  {
    auto s = Open(&errors);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Save(MakeHardState(1, 1, 0), MakeEntries(1, 3, 1), true).ok());
    errors.FailNth(io::EnvOp::kSync, 1, EIO);
    EXPECT_FALSE((*s)->Save(std::nullopt, {MakeEntry(3, 1)}, true).ok());
    const uint64_t syncs = errors.count(io::EnvOp::kSync);
    EXPECT_FALSE((*s)->Save(std::nullopt, {MakeEntry(3, 1)}, true).ok());
    EXPECT_FALSE((*s)->CreateSnapshot(2, nullptr, "x").ok());
    EXPECT_EQ(errors.count(io::EnvOp::kSync), syncs);
  }
  env_.Crash(/*tear_last_write=*/false);
  auto s = Open();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->LastIndex(), 2u);  // the unsynced entry is gone, the acknowledged ones stay
}

TEST_F(RecoveryTest, CrashBetweenSnapshotRenameAndWalTruncationKeepsTheSnapshotAndLog) {
  options_.wal.segment_bytes = 512;
  size_t segments_before = 0;
  {
    auto s = Open();
    ASSERT_TRUE(s.ok());
    for (uint64_t i = 1; i <= 60; ++i) {
      ASSERT_TRUE((*s)->Save(std::nullopt, {MakeEntry(i, 1)}, true).ok());
    }
    ASSERT_TRUE((*s)->CreateSnapshot(50, nullptr, "fifty").ok());
    segments_before = (*s)->wal().segment_seqs().size();
    env_.CrashAfter(0);  // power fails before Compact deletes any segment
    EXPECT_FALSE((*s)->Compact(50).ok());
  }
  env_.Crash();
  auto s = Open();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->FirstIndex(), 51u);
  EXPECT_EQ((*s)->LastIndex(), 60u);
  EXPECT_EQ((*s)->Snapshot()->data(), "fifty");
  EXPECT_LT((*s)->wal().segment_seqs().size(), segments_before);  // the deletion is redone
}

TEST_F(RecoveryTest, EveryCrashPointInsideCreateSnapshotRecoversTheOldOrTheNewSnapshot) {
  for (uint64_t crash_after = 0; crash_after < 12; ++crash_after) {
    io::FaultInjectionEnv env(crash_after);
    {
      auto s = DurableStorage::Open(&env, "/data", options_);
      ASSERT_TRUE(s.ok());
      ASSERT_TRUE((*s)->Save(std::nullopt, MakeEntries(1, 11, 1), true).ok());
      ASSERT_TRUE((*s)->CreateSnapshot(3, nullptr, "three").ok());
      env.CrashAfter(crash_after);
      (void)(*s)->CreateSnapshot(8, nullptr, "eight");
    }
    env.Crash();
    auto s = DurableStorage::Open(&env, "/data", options_);
    ASSERT_TRUE(s.ok()) << crash_after << ": " << s.status();
    const std::string data = (*s)->Snapshot()->data();
    EXPECT_TRUE(data == "three" || data == "eight") << crash_after;
    EXPECT_EQ((*s)->LastIndex(), 10u);
    EXPECT_EQ((*s)->FirstIndex(), data == "three" ? 4u : 9u);
    // Only the snapshot in use is left on disk.
    int snapshot_files = 0;
    const std::vector<std::string> names = *env.ListDir("/data");
    for (const std::string& n : names) {
      snapshot_files += ParseSnapshotFileName(n).has_value() ? 1 : 0;
      EXPECT_FALSE(n.ends_with(".tmp")) << n;
    }
    EXPECT_EQ(snapshot_files, 1) << crash_after;
  }
}

TEST_F(RecoveryTest, LeftoversOfAnInterruptedRollOrSnapshotAreRemoved) {
  WriteSynced(2);
  for (const std::string& name :
       {"/data/" + SegmentFileName(2) + ".tmp", "/data/" + SnapshotFileName(9, 9) + ".tmp"}) {
    auto f = env_.OpenFile(name, io::OpenMode::kCreate);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append("half written").ok());
    ASSERT_TRUE((*f)->Sync().ok());
  }
  ASSERT_TRUE(env_.SyncDir("/data").ok());
  auto s = Open();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->LastIndex(), 2u);
  const std::vector<std::string> names = *env_.ListDir("/data");
  for (const std::string& n : names) EXPECT_FALSE(n.ends_with(".tmp")) << n;
  EXPECT_TRUE(logger_.Contains("interrupted"));
}

TEST_F(RecoveryTest, MissingCommittedSnapshotFileIsDataLoss) {
  {
    auto s = Open();
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Save(std::nullopt, MakeEntries(1, 5, 1), true).ok());
    ASSERT_TRUE((*s)->CreateSnapshot(4, nullptr, "four").ok());
  }
  ASSERT_TRUE(env_.Remove("/data/" + SnapshotFileName(4, 1)).ok());
  auto s = Open();
  EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(RecoveryTest, CorruptSnapshotFileIsDataLossNamingIt) {
  {
    auto s = Open();
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Save(std::nullopt, MakeEntries(1, 5, 1), true).ok());
    ASSERT_TRUE((*s)->CreateSnapshot(4, nullptr, "four").ok());
  }
  const std::string path = "/data/" + SnapshotFileName(4, 1);
  ASSERT_TRUE(env_.CorruptByte(path, 30, 0x08).ok());
  auto s = Open();
  ASSERT_EQ(s.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.status().message().find(path), std::string_view::npos);
}

TEST_F(RecoveryTest, EmptyDirectoryStartsAFreshNode) {
  auto s = Open();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->LastIndex(), 0u);
  EXPECT_EQ((*s)->hard_state().term(), 0u);
  EXPECT_TRUE(logger_.lines.empty());
}

}  // namespace
}  // namespace raftkv::storage
