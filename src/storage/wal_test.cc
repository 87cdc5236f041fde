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

TEST_F(WalTest, AnEntryRecordHoldsTheSerializedEntry) {
  WalRecovery rec;
  auto wal = Open(&rec);
  const std::vector<raftpb::Entry> entries = {MakeEntry(1, 1),
                                              MakeEntry(2, 1, std::string(5000, 'e')),
                                              MakeEntry(3, 2, std::string(1, '\0'))};
  WalBatch batch;
  for (const raftpb::Entry& e : entries) batch.AddEntry(e);
  std::vector<RecordLocation> locations;
  ASSERT_TRUE(wal->Write(batch, /*sync=*/false, &locations).ok());
  ASSERT_EQ(locations.size(), entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    auto payload = wal->ReadPayload(locations[i]);
    ASSERT_TRUE(payload.ok()) << payload.status();
    EXPECT_EQ(*payload, entries[i].SerializeAsString()) << i;
  }
}

TEST_F(WalTest, AGroupOfBatchesIsOneWriteAndOneSyncAndReplaysInOrder) {
  io::ErrorInjectionEnv counting(&env_);
  {
    WalRecovery rec;
    auto wal = Wal::Open(&counting, "/data", options_, &rec);
    ASSERT_TRUE(wal.ok());
    const uint64_t writes = counting.count(io::EnvOp::kWrite);
    const uint64_t syncs = counting.count(io::EnvOp::kSync);
    WalBatch a, empty, b, c;
    a.AddEntry(MakeEntry(1, 1));
    a.AddEntry(MakeEntry(2, 1));
    b.SetHardState(MakeHardState(1, 2, 1));
    c.AddEntry(MakeEntry(3, 1));
    c.SetHardState(MakeHardState(1, 2, 3));
    const WalBatch* group[] = {&a, &empty, &b, &c};
    ASSERT_TRUE((*wal)->WriteGroup(group, /*sync=*/true).ok());
    EXPECT_EQ(counting.count(io::EnvOp::kWrite), writes + 1);
    EXPECT_EQ(counting.count(io::EnvOp::kSync), syncs + 1);
  }
  WalRecovery rec;
  Open(&rec);
  ASSERT_EQ(rec.entries.size(), 3u);
  EXPECT_EQ(rec.first_index, 1u);
  EXPECT_EQ(rec.hard_state.commit(), 3u);
}

TEST_F(WalTest, AGroupLeavesTheSameBytesAsItsBatchesWrittenOneByOne) {
  io::FaultInjectionEnv separate_env(7);
  WalRecovery separate_rec, rec;
  auto separate = Wal::Open(&separate_env, "/data", options_, &separate_rec);
  auto grouped = Open(&rec);
  ASSERT_TRUE(separate.ok());
  std::vector<WalBatch> batches(5);
  for (uint64_t i = 0; i < batches.size(); ++i) {
    batches[i].AddEntry(MakeEntry(i + 1, 2, std::string(10 * i + 1, 'd')));
    batches[i].SetHardState(MakeHardState(2, 1, i));
  }
  std::vector<const WalBatch*> group;
  for (const WalBatch& b : batches) {
    group.push_back(&b);
    ASSERT_TRUE((*separate)->Write(b, /*sync=*/false).ok());
  }
  ASSERT_TRUE(grouped->WriteGroup(group, /*sync=*/false).ok());
  EXPECT_EQ(*env_.Contents("/data/" + SegmentFileName(1)),
            *separate_env.Contents("/data/" + SegmentFileName(1)));
}

TEST_F(WalTest, AGroupThatDoesNotFitRollsFirstAndLandsWholeInTheNextSegment) {
  {
    WalRecovery rec;
    auto wal = Open(&rec);
    WriteEntries(wal.get(), 1, 11, 1);  // with the header, ~400 of the 1024 bytes
    std::vector<WalBatch> batches(8);
    std::vector<const WalBatch*> group;
    for (uint64_t i = 0; i < batches.size(); ++i) {
      batches[i].AddEntry(MakeEntry(11 + i, 1, std::string(80, 'g')));  // ~770 bytes in all
      group.push_back(&batches[i]);
    }
    ASSERT_TRUE(wal->WriteGroup(group, /*sync=*/true).ok());
    EXPECT_EQ(wal->segment_seqs(), (std::vector<uint64_t>{1, 2}));
  }
  WalRecovery rec;
  Open(&rec);
  ASSERT_EQ(rec.entries.size(), 18u);
  for (uint64_t i = 0; i < 10; ++i) EXPECT_EQ(rec.entries[i].location.seq, 1u) << i;
  for (uint64_t i = 10; i < 18; ++i) EXPECT_EQ(rec.entries[i].location.seq, 2u) << i;
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
