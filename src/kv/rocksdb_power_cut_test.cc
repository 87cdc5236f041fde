// RocksDbEngine through a power cut (kv/power_cut_fs.h): what Sync made durable survives, and
// the state after the cut is the state after some whole entry, the one its applied index names.
// This is what the raft log compaction rule rests on (docs/storage.md, "Durability: the rule
// between the raft log and the engine").
#include <cstdint>
#include <memory>
#include <string>

#include "fmt/format.h"
#include "gtest/gtest.h"
#include "kv/engine_test_util.h"
#include "kv/power_cut_fs.h"
#include "kv/rocksdb_engine.h"
#include "kv/store.h"
#include "kv/store_test_util.h"

namespace raftkv::kv {
namespace {

using testing::PowerCutFileSystem;
using testing::PutOp;
using testing::RangeReq;
using testing::TempDir;
using testing::Wrap;

// The engine's files go through `fs`, and closing it is like a crash: a power cut flushes no
// memtable.
RocksDbEngine::Options OnPowerCutDisk(std::shared_ptr<PowerCutFileSystem> fs,
                                      bool write_ahead_log) {
  RocksDbEngine::Options options;
  options.file_system = std::move(fs);
  options.write_ahead_log = write_ahead_log;
  options.flush_memtables_at_close = false;
  return options;
}

std::unique_ptr<Store> OpenStore(const std::string& dir, const RocksDbEngine::Options& options) {
  absl::StatusOr<std::unique_ptr<RocksDbEngine>> engine = RocksDbEngine::Open(dir, options);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return engine.ok() ? std::make_unique<Store>(*std::move(engine)) : nullptr;
}

std::string EntryKey(uint64_t index) { return fmt::format("entry-{:06}", index); }
// Values of a few hundred bytes, so that the write-ahead log spans several of its 32 KiB blocks
// and a cut lands inside one.
std::string EntryValue(uint64_t index) {
  return fmt::format("value of entry {} ", index) + std::string(300, 'v');
}

// Entry i of the raft log: a key of its own and an overwrite of a shared one, in one txn.
kvpb::Request Entry(uint64_t index) {
  etcdserverpb::TxnRequest txn;
  *txn.add_success() = PutOp(EntryKey(index), EntryValue(index));
  *txn.add_success() = PutOp("latest", std::to_string(index));
  return Wrap(txn);
}

void ApplyEntries(Store& store, uint64_t first, uint64_t last) {
  for (uint64_t index = first; index <= last; ++index) {
    ASSERT_TRUE(store.Apply(Entry(index), index).ok()) << "entry " << index;
  }
}

// The store holds entries 1..applied_index() and nothing after: every entry's key with its
// value, no key of a later entry, and the very state of a memory store that applied the same
// entries (versions, revisions, sizes).
void ExpectExactlyTheEntriesThroughTheAppliedIndex(const Store& disk) {
  const uint64_t applied = disk.applied_index();
  for (uint64_t index = 1; index <= applied; ++index) {
    absl::StatusOr<etcdserverpb::RangeResponse> got = disk.Range(RangeReq(EntryKey(index)));
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->kvs_size(), 1) << "entry " << index << " is lost";
    EXPECT_EQ(got->kvs(0).value(), EntryValue(index));
  }
  absl::StatusOr<etcdserverpb::RangeResponse> later =
      disk.Range(RangeReq(EntryKey(applied + 1), "entry."));
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_EQ(later->count(), 0) << "entries after the applied index " << applied << " are visible";

  Store memory;
  ApplyEntries(memory, 1, applied);
  EXPECT_EQ(disk.revision(), memory.revision());
  EXPECT_EQ(disk.size_bytes(), memory.size_bytes());
  EXPECT_EQ(disk.HashKV(0)->hash, memory.HashKV(0)->hash);
  EXPECT_EQ(disk.Snapshot(), memory.Snapshot());
}

// Three rounds, each going on from where the last power cut left the engine, as a restarted
// member replays its raft log after the engine's applied index: the later cuts also hit what
// reopening wrote (the recovered log flushed into table files, a new MANIFEST) and removed.
// Each round applies 150 entries, syncs, applies 100 more, closes like a crash and cuts power.
void ExpectSyncedEntriesToSurviveThreePowerCuts(bool write_ahead_log) {
  TempDir dir;
  auto fs = std::make_shared<PowerCutFileSystem>();
  const RocksDbEngine::Options options = OnPowerCutDisk(fs, write_ahead_log);
  uint64_t applied = 0;
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(fmt::format("round {}", round));
    const uint64_t synced = applied + 150;
    const uint64_t last = synced + 100;
    {
      std::unique_ptr<Store> store = OpenStore(dir.path(), options);
      ASSERT_NE(store, nullptr);
      ASSERT_EQ(store->applied_index(), applied);
      ApplyEntries(*store, applied + 1, synced);
      ASSERT_TRUE(store->Sync().ok());
      ApplyEntries(*store, synced + 1, last);
    }
    ASSERT_EQ(fs->PowerCut(), absl::OkStatus());

    std::unique_ptr<Store> store = OpenStore(dir.path(), options);
    ASSERT_NE(store, nullptr);
    EXPECT_GE(store->applied_index(), synced) << "a power cut lost synced entries";
    if (write_ahead_log) {
      EXPECT_LE(store->applied_index(), last);
    } else {
      // The close dropped the memtables as a crash does; had it flushed them, the test would
      // not show what Sync alone keeps.
      EXPECT_LT(store->applied_index(), last);
    }
    ExpectExactlyTheEntriesThroughTheAppliedIndex(*store);
    applied = store->applied_index();
  }
}

TEST(RocksDbPowerCut, EntriesCommittedBeforeASyncSurviveAPowerCut) {
  ExpectSyncedEntriesToSurviveThreePowerCuts(/*write_ahead_log=*/true);
}

// Without RocksDB's own log, Sync flushes the memtables: the table files and the MANIFEST that
// names them must be durable when it returns.
TEST(RocksDbPowerCut, WithoutItsOwnLogEntriesFlushedBySyncSurviveAPowerCut) {
  ExpectSyncedEntriesToSurviveThreePowerCuts(/*write_ahead_log=*/false);
}

// The model bites: entries never synced do not survive the power cut, though they survive the
// same close without one (a killed process loses nothing). Without this the test above could
// pass on a file system that keeps everything.
TEST(RocksDbPowerCut, EntriesNeverSyncedAreLostInAPowerCutButNotInACrashOfTheProcess) {
  constexpr uint64_t kLast = 200;
  TempDir crashed_dir;
  TempDir power_cut_dir;
  auto crashed_fs = std::make_shared<PowerCutFileSystem>();
  auto power_cut_fs = std::make_shared<PowerCutFileSystem>();
  const RocksDbEngine::Options crashed = OnPowerCutDisk(crashed_fs, /*write_ahead_log=*/true);
  const RocksDbEngine::Options power_cut = OnPowerCutDisk(power_cut_fs, /*write_ahead_log=*/true);
  for (const auto& [dir, options] :
       {std::pair{crashed_dir.path(), crashed}, std::pair{power_cut_dir.path(), power_cut}}) {
    std::unique_ptr<Store> store = OpenStore(dir, options);
    ASSERT_NE(store, nullptr);
    ApplyEntries(*store, 1, kLast);
  }
  ASSERT_EQ(power_cut_fs->PowerCut(), absl::OkStatus());

  std::unique_ptr<Store> after_crash = OpenStore(crashed_dir.path(), crashed);
  ASSERT_NE(after_crash, nullptr);
  EXPECT_EQ(after_crash->applied_index(), kLast);
  std::unique_ptr<Store> after_power_cut = OpenStore(power_cut_dir.path(), power_cut);
  ASSERT_NE(after_power_cut, nullptr);
  EXPECT_LT(after_power_cut->applied_index(), kLast) << "the power cut dropped no unsynced write";
  ExpectExactlyTheEntriesThroughTheAppliedIndex(*after_power_cut);
}

}  // namespace
}  // namespace raftkv::kv
