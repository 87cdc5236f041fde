#include "storage/wal.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "io/error_injection_env.h"
#include "io/fault_injection_env.h"
#include "storage/test_util.h"

namespace raftkv::storage {
namespace {

using testing::MakeEntry;
using testing::MakeHardState;

class WalTest : public ::testing::Test {
 protected:
  std::unique_ptr<Wal> Open(WalRecovery* rec) {
    auto wal = Wal::Open(&env_, "/data", options_, rec);
    EXPECT_TRUE(wal.ok()) << wal.status();
    return wal.ok() ? std::move(*wal) : nullptr;
  }

  void WriteEntries(Wal* wal, uint64_t lo, uint64_t hi, uint64_t term) {
    WalBatch batch;
    for (uint64_t i = lo; i < hi; ++i) batch.AddEntry(MakeEntry(i, term));
    ASSERT_TRUE(wal->Write(batch, /*sync=*/true).ok());
  }

  io::FaultInjectionEnv env_{7};
  WalOptions options_{.segment_bytes = 1024, .preallocate = true, .logger = nullptr};
};

TEST_F(WalTest, FreshDirectoryGivesAnEmptyLogInOneSegment) {
  WalRecovery rec;
  auto wal = Open(&rec);
  EXPECT_TRUE(rec.fresh);
  EXPECT_EQ(rec.first_index, 1u);
  EXPECT_TRUE(rec.entries.empty());
  EXPECT_EQ(wal->segment_seqs(), std::vector<uint64_t>{1});
}

TEST_F(WalTest, EntriesAndHardStateAreReplayedOnReopen) {
  {
    WalRecovery rec;
    auto wal = Open(&rec);
    WalBatch batch;
    batch.AddEntry(MakeEntry(1, 1));
    batch.AddEntry(MakeEntry(2, 1));
    batch.SetHardState(MakeHardState(1, 3, 2));
    ASSERT_TRUE(wal->Write(batch, true).ok());
  }
  WalRecovery rec;
  auto wal = Open(&rec);
  EXPECT_FALSE(rec.fresh);
  ASSERT_EQ(rec.entries.size(), 2u);
  EXPECT_EQ(rec.hard_state.vote(), 3u);
  EXPECT_EQ(rec.hard_state.commit(), 2u);
}

TEST_F(WalTest, AnEntryAtOrBelowTheLastIndexReplacesTheSuffixOnReplay) {
  {
    WalRecovery rec;
    auto wal = Open(&rec);
    WriteEntries(wal.get(), 1, 6, 1);
    WriteEntries(wal.get(), 3, 4, 2);  // raft overwrote 3..5 with a new entry 3
  }
  WalRecovery rec;
  Open(&rec);
  ASSERT_EQ(rec.entries.size(), 3u);
  EXPECT_EQ(rec.entries[2].term, 2u);
}

TEST_F(WalTest, SegmentsRollAtTheConfiguredSizeAndReplayAcrossThem) {
  {
    WalRecovery rec;
    auto wal = Open(&rec);
    for (uint64_t i = 1; i <= 150; ++i) WriteEntries(wal.get(), i, i + 1, 1);
    EXPECT_GT(wal->segment_seqs().size(), 2u);
  }
  WalRecovery rec;
  auto wal = Open(&rec);
  EXPECT_EQ(rec.entries.size(), 150u);
  for (uint64_t seq : wal->segment_seqs()) {
    auto data = env_.Contents("/data/" + SegmentFileName(seq));
    ASSERT_TRUE(data.ok());
    EXPECT_LE(data->size(), options_.segment_bytes);
  }
}

TEST_F(WalTest, ZeroFilledPreallocatedTailIsEndOfLogNotCorruption) {
  testing::CapturingLogger logger;
  options_.logger = &logger;
  {
    WalRecovery rec;
    auto wal = Open(&rec);
    WriteEntries(wal.get(), 1, 3, 1);
  }
  auto data = env_.Contents("/data/" + SegmentFileName(1));
  ASSERT_EQ(data->size(), options_.segment_bytes);  // preallocated
  EXPECT_EQ(data->back(), '\0');
  WalRecovery rec;
  Open(&rec);
  EXPECT_EQ(rec.entries.size(), 2u);
  EXPECT_EQ(rec.dropped_tail_bytes, 0u);
  EXPECT_TRUE(logger.lines.empty());
}

TEST_F(WalTest, EachBatchIsOneWriteAndOneSync) {
  io::ErrorInjectionEnv counting(&env_);
  WalRecovery rec;
  auto wal = Wal::Open(&counting, "/data", options_, &rec);
  ASSERT_TRUE(wal.ok());
  const uint64_t writes = counting.count(io::EnvOp::kWrite);
  const uint64_t syncs = counting.count(io::EnvOp::kSync);
  WalBatch batch;
  for (uint64_t i = 1; i <= 5; ++i) batch.AddEntry(MakeEntry(i, 1));
  batch.SetHardState(MakeHardState(1, 1, 5));
  ASSERT_TRUE((*wal)->Write(batch, true).ok());
  EXPECT_EQ(counting.count(io::EnvOp::kWrite), writes + 1);
  EXPECT_EQ(counting.count(io::EnvOp::kSync), syncs + 1);
}

TEST_F(WalTest, RemoveSegmentsUpToDeletesOnlySegmentsWhoseEntriesAreAllCovered) {
  WalRecovery rec;
  auto wal = Open(&rec);
  for (uint64_t i = 1; i <= 60; ++i) WriteEntries(wal.get(), i, i + 1, 1);
  const std::vector<uint64_t> before = wal->segment_seqs();
  ASSERT_TRUE(wal->RemoveSegmentsUpTo(0).ok());
  EXPECT_EQ(wal->segment_seqs(), before);
  ASSERT_TRUE(wal->RemoveSegmentsUpTo(1000).ok());
  EXPECT_EQ(wal->segment_seqs(), std::vector<uint64_t>{before.back()});
  auto names = env_.ListDir("/data");
  EXPECT_EQ(std::count_if(names->begin(), names->end(),
                          [](const std::string& n) { return ParseSegmentFileName(n).has_value(); }),
            1);
}

TEST_F(WalTest, SecondOpenOfTheSameDirectoryFailsNamingIt) {
  WalRecovery rec;
  auto first = Open(&rec);
  auto second = Wal::Open(&env_, "/data", options_, &rec);
  ASSERT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("/data"), std::string_view::npos);
  EXPECT_NE(second.status().message().find("in use"), std::string_view::npos);
}

TEST_F(WalTest, AfterAFailedWriteEveryLaterWriteFailsWithTheFirstError) {
  io::ErrorInjectionEnv errors(&env_);
  WalRecovery rec;
  auto wal = Wal::Open(&errors, "/data", options_, &rec);
  ASSERT_TRUE(wal.ok());
  errors.FailNth(io::EnvOp::kWrite, 1, EIO);
  WalBatch batch;
  batch.AddEntry(MakeEntry(1, 1));
  EXPECT_FALSE((*wal)->Write(batch, true).ok());
  const uint64_t writes = errors.count(io::EnvOp::kWrite);
  const absl::Status again = (*wal)->Write(batch, true);
  EXPECT_FALSE(again.ok());
  EXPECT_EQ(errors.count(io::EnvOp::kWrite), writes);  // not even attempted
  EXPECT_NE(again.message().find("reopened"), std::string_view::npos);
}

}  // namespace
}  // namespace raftkv::storage
