// RocksDbEngine on its own: opening, reopening, what a commit makes durable, and a store on it.
#include "kv/rocksdb_engine.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "kv/engine_test_util.h"
#include "kv/rocksdb_format.h"
#include "kv/store.h"
#include "kv/store_test_util.h"
#include "rocksdb/db.h"

namespace raftkv::kv {
namespace {

using testing::CompactReq;
using testing::DelReq;
using testing::PutReq;
using testing::RangeReq;
using testing::TempDir;
using testing::Wrap;

std::unique_ptr<RocksDbEngine> MustOpen(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<RocksDbEngine>> engine = RocksDbEngine::Open(dir);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return engine.ok() ? *std::move(engine) : nullptr;
}

std::unique_ptr<Store> MustOpenStore(const std::string& dir) {
  std::unique_ptr<RocksDbEngine> engine = MustOpen(dir);
  if (engine == nullptr) return nullptr;
  return std::make_unique<Store>(std::move(engine));
}

kvpb::Request LeaseGrant(int64_t id, int64_t ttl) {
  kvpb::Request request;
  request.mutable_lease_grant()->set_id(id);
  request.mutable_lease_grant()->set_ttl(ttl);
  return request;
}

TEST(RocksDbEngine, AFreshDirectoryOpensAsAnEmptyStoreAtRevisionOne) {
  TempDir dir;
  std::unique_ptr<Store> store = MustOpenStore(dir.path() + "/db");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->revision(), 1);
  EXPECT_EQ(store->applied_index(), 0u);
  EXPECT_EQ(store->compact_revision(), 0);
  EXPECT_EQ(store->Range(RangeReq("a", std::string(1, '\0')))->count(), 0);
}

// Without RocksDB's own log, Sync flushes the memtables: what was committed before it is on
// disk in table files, and a reopened engine reads it back.
TEST(RocksDbEngine, WithoutItsOwnLogSyncFlushesEveryCommittedEntry) {
  TempDir dir;
  RocksDbEngine::Options options;
  options.write_ahead_log = false;
  {
    auto engine = RocksDbEngine::Open(dir.path(), options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    Store store(*std::move(engine));
    for (int i = 1; i <= 20; ++i) {
      ASSERT_TRUE(store.Apply(Wrap(PutReq("k" + std::to_string(i), "v")), i).ok());
    }
    ASSERT_TRUE(store.Sync().ok());
  }
  std::error_code error;
  bool has_table_file = false;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path(), error)) {
    has_table_file |= entry.path().extension() == ".sst";
  }
  EXPECT_TRUE(has_table_file) << "Sync did not flush the memtables to table files";
  auto engine = RocksDbEngine::Open(dir.path(), options);
  ASSERT_TRUE(engine.ok()) << engine.status();
  Store store(*std::move(engine));
  EXPECT_EQ(store.applied_index(), 20u);
  EXPECT_EQ(store.live_keys(), 20);
}

// Point reads seek within one key's versions and may skip table files by their key-prefix
// filters; scans walk every key in order. Both must find what the memory engine finds for keys
// that are prefixes of each other or hold NUL bytes, at every revision, once the versions sit in
// table files (the filters are built when a memtable is flushed) and in the memtable on top.
TEST(RocksDbEngine, ReadsAtEveryRevisionAgreeWithTheMemoryEngineOnceTheVersionsAreInTableFiles) {
  TempDir dir;
  RocksDbEngine::Options options;
  options.write_ahead_log = false;  // Sync then flushes the memtables into table files
  auto engine = RocksDbEngine::Open(dir.path(), options);
  ASSERT_TRUE(engine.ok()) << engine.status();
  Store disk(*std::move(engine));
  Store memory;
  const std::vector<std::string> keys = {"a", std::string("a\0", 2), std::string("a\0b", 3),
                                         "ab", "b", std::string(1, '\0'), "abc"};
  uint64_t index = 0;
  auto apply = [&](const kvpb::Request& request) {
    ++index;
    ASSERT_EQ(disk.Apply(request, index).ok(), memory.Apply(request, index).ok());
  };
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < keys.size(); ++i) {
      if ((i + round) % 4 == 3) {
        apply(Wrap(DelReq(keys[i])));
      } else {
        apply(Wrap(PutReq(keys[i], "v" + std::to_string(round))));
      }
    }
    if (round < 2) {
      ASSERT_TRUE(disk.Sync().ok());  // the last round stays in the memtable
    }
  }
  ASSERT_EQ(disk.revision(), memory.revision());
  std::vector<std::string> probes = keys;
  probes.insert(probes.end(), {"aa", "c", std::string("a\0a", 3)});
  for (int64_t revision = 1; revision <= disk.revision(); ++revision) {
    for (const std::string& key : probes) {
      for (const std::string& end : {std::string(), key + '\0', std::string(1, '\0')}) {
        etcdserverpb::RangeRequest request = RangeReq(key, end);
        request.set_revision(revision);
        absl::StatusOr<etcdserverpb::RangeResponse> want = memory.Range(request);
        absl::StatusOr<etcdserverpb::RangeResponse> got = disk.Range(request);
        ASSERT_TRUE(want.ok()) << want.status();
        ASSERT_TRUE(got.ok()) << got.status();
        EXPECT_EQ(got->SerializeAsString(), want->SerializeAsString())
            << "range [" << absl::CEscape(key) << ", " << absl::CEscape(end) << ") at " << revision;
      }
    }
  }
}

// The layer above keeps its member list here; it must move with the applied index.
TEST(RocksDbEngine, TheClusterStateIsCommittedWithItsEntryAndReplacedByARestore) {
  TempDir dir;
  std::string snapshot;
  {
    std::unique_ptr<Store> store = MustOpenStore(dir.path());
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->cluster_state(), "");
    store->MarkApplied(1, "members at 1");
    ASSERT_TRUE(store->Apply(Wrap(PutReq("k", "v")), 2).ok());
    snapshot = store->Snapshot();
    store->MarkApplied(3, "members at 3");
  }
  {
    std::unique_ptr<Store> store = MustOpenStore(dir.path());
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->applied_index(), 3u);
    EXPECT_EQ(store->cluster_state(), "members at 3");
    ASSERT_TRUE(store->Restore(snapshot, "members of the snapshot").ok());
    EXPECT_EQ(store->cluster_state(), "members of the snapshot");
    EXPECT_EQ(store->applied_index(), 2u);
  }
  std::unique_ptr<Store> store = MustOpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->cluster_state(), "members of the snapshot");
  EXPECT_EQ(store->Range(RangeReq("k", ""))->count(), 1);
}

TEST(RocksDbEngine, ReopenReadsBackTheAppliedIndexAndTheState) {
  TempDir dir;
  std::string snapshot;
  uint32_t hash = 0;
  {
    std::unique_ptr<Store> store = MustOpenStore(dir.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Apply(LeaseGrant(7, 60), 1).ok());
    auto put = PutReq("k", "v1");
    put.set_lease(7);
    ASSERT_TRUE(store->Apply(Wrap(put), 2).ok());
    ASSERT_TRUE(store->Apply(Wrap(PutReq("k", "v2")), 3).ok());
    ASSERT_TRUE(store->Apply(Wrap(PutReq("other", "x")), 5).ok());
    store->MarkApplied(9);  // an empty entry moves the applied index alone
    ASSERT_TRUE(store->Apply(testing::CompactReq(3), 10).ok());
    snapshot = store->Snapshot();
    hash = store->HashKV(0)->hash;
  }
  std::unique_ptr<Store> reopened = MustOpenStore(dir.path());
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->applied_index(), 10u);
  EXPECT_EQ(reopened->revision(), 4);
  EXPECT_EQ(reopened->compact_revision(), 3);
  EXPECT_EQ(reopened->live_keys(), 2);
  EXPECT_EQ(reopened->HashKV(0)->hash, hash);
  EXPECT_EQ(reopened->Snapshot(), snapshot);
  ASSERT_TRUE(reopened->FindLease(7, true).has_value());
  EXPECT_TRUE(reopened->FindLease(7, true)->keys.empty());  // the second put detached "k"
  auto got = reopened->Range(RangeReq("k"));
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->kvs_size(), 1);
  EXPECT_EQ(got->kvs(0).value(), "v2");
  EXPECT_EQ(got->kvs(0).version(), 2);
  // Applying goes on from the index read back.
  EXPECT_TRUE(reopened->Apply(Wrap(PutReq("k", "v3")), 11).ok());
  EXPECT_EQ(reopened->revision(), 5);
}

TEST(RocksDbEngine, WritesOfAnUncommittedBatchAreGoneAfterReopen) {
  TempDir dir;
  {
    std::unique_ptr<RocksDbEngine> engine = MustOpen(dir.path());
    ASSERT_NE(engine, nullptr);
    engine->AppendVersion("a", Version{.mod_revision = 2,
                                       .create_revision = 2,
                                       .version = 1,
                                       .lease = 0,
                                       .value = "x",
                                       .tombstone = false},
                          std::nullopt);
    engine->Commit(EngineMeta{.applied_index = 1,
                              .revision = 2,
                              .compact_revision = 0,
                              .size_bytes = 50,
                              .live_keys = 1});
    engine->AppendVersion("b", Version{.mod_revision = 3,
                                       .create_revision = 3,
                                       .version = 1,
                                       .lease = 0,
                                       .value = "y",
                                       .tombstone = false},
                          std::nullopt);
    engine->PutLease(5, 10);
    // The batch is open, and readable before its commit...
    EXPECT_TRUE(engine->Get("b", 3).has_value());
    // ...but the engine closes without committing it.
  }
  std::unique_ptr<RocksDbEngine> engine = MustOpen(dir.path());
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(engine->meta().applied_index, 1u);
  EXPECT_EQ(engine->meta().revision, 2);
  EXPECT_TRUE(engine->Get("a", 2).has_value());
  EXPECT_FALSE(engine->Get("b", 3).has_value());
  EXPECT_FALSE(engine->LeaseTtl(5).has_value());
}

// ---- Compaction in steps ----

// The same requests through a store in memory (which compacts at once) and a store on a
// RocksDbEngine (which drops old versions physically a bounded number of revision log records per
// commit): every replicated figure must be the same on both after every entry.
class TwinStores {
 public:
  explicit TwinStores(std::string dir, RocksDbEngine::Options options = {})
      : dir_(std::move(dir)), options_(options) {
    Reopen();
  }

  // Closes the RocksDB store without anything more (the open batch, if any, is dropped) and
  // opens it again from its directory, as a restarted member does.
  void Reopen() {
    Close();
    absl::StatusOr<std::unique_ptr<RocksDbEngine>> engine = RocksDbEngine::Open(dir_, options_);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = engine->get();
    disk_ = std::make_unique<Store>(*std::move(engine));
  }

  void Close() {
    disk_.reset();
    engine_ = nullptr;
  }

  void Apply(const kvpb::Request& request) {
    ++index_;
    const absl::StatusOr<kvpb::Response> want = memory_.Apply(request, index_);
    const absl::StatusOr<kvpb::Response> got = disk_->Apply(request, index_);
    ASSERT_EQ(got.ok(), want.ok()) << request.ShortDebugString();
    ASSERT_TRUE(want.ok()) << want.status();
    EXPECT_EQ(got->ShortDebugString(), want->ShortDebugString());
  }
  // An entry without a request (a configuration change, a leader's empty entry).
  void ApplyEmptyEntry() {
    ++index_;
    memory_.MarkApplied(index_);
    disk_->MarkApplied(index_);
  }
  // Empty entries until the RocksDB engine has no compaction left; returns how many it took.
  int ApplyEmptyEntriesUntilCompacted(int at_most) {
    int entries = 0;
    while (engine_->compaction_in_progress() && entries < at_most) {
      ApplyEmptyEntry();
      ++entries;
    }
    return entries;
  }

  // Every replicated figure and read answer the two stores must share.
  void ExpectSameState() const {
    EXPECT_EQ(disk_->revision(), memory_.revision());
    EXPECT_EQ(disk_->compact_revision(), memory_.compact_revision());
    EXPECT_EQ(disk_->size_bytes(), memory_.size_bytes());
    EXPECT_EQ(disk_->live_keys(), memory_.live_keys());
    EXPECT_EQ(disk_->HashKV(0)->hash, memory_.HashKV(0)->hash);
    EXPECT_EQ(disk_->Snapshot(), memory_.Snapshot());
  }

  // Versions a read or a snapshot can see (ForEachKeyHistory), against what is on disk.
  int64_t VisibleVersions() const {
    int64_t count = 0;
    engine_->ForEachKeyHistory(
        [&](const std::string&, std::span<const Version> history) { count += history.size(); });
    return count;
  }

  Store& memory() { return memory_; }
  Store& disk() { return *disk_; }
  RocksDbEngine& engine() { return *engine_; }

 private:
  std::string dir_;
  RocksDbEngine::Options options_;
  uint64_t index_ = 0;
  Store memory_;
  std::unique_ptr<Store> disk_;
  RocksDbEngine* engine_ = nullptr;
};

constexpr int kManyRevisions = 20'000;

// kManyRevisions writes over 100 keys, values of varied sizes, one key in seven deleted now and
// then: most versions are history that a compaction near the end drops.
void WriteManyRevisions(TwinStores& stores) {
  for (int i = 0; i < kManyRevisions && !::testing::Test::HasFatalFailure(); ++i) {
    const std::string key = "key" + std::to_string(i % 100);
    if (i % 700 == 699) {
      stores.Apply(Wrap(DelReq("key", "kez")));  // every key: tombstones
    } else if (i % 7 == 3) {
      stores.Apply(Wrap(DelReq(key)));
    } else {
      stores.Apply(Wrap(PutReq(key, std::string(i % 37, 'v'))));
    }
  }
}

int64_t RecordsPerCommit() { return RocksDbEngine::Options{}.compaction_records_per_commit; }

TEST(RocksDbEngine, ACompactionOfManyRevisionsIsDoneInBoundedStepsAcrossLaterCommits) {
  TempDir dir;
  TwinStores stores(dir.path());
  WriteManyRevisions(stores);
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  const int64_t target = stores.memory().revision() - 500;
  const RocksDbEngine::StoredRecords before = stores.engine().CountStoredRecords();

  stores.Apply(CompactReq(target));

  // The compaction's own entry did at most one step of the physical work...
  const RocksDbEngine::StoredRecords first_step = stores.engine().CountStoredRecords();
  EXPECT_GT(first_step.revision_log, before.revision_log - RecordsPerCommit() - 1);
  EXPECT_LT(first_step.revision_log, before.revision_log);
  EXPECT_TRUE(stores.engine().compaction_in_progress());
  // ...yet the compaction is complete for every reader and for the accounting at once.
  auto old_read = RangeReq("key1");
  old_read.set_revision(target - 1);
  EXPECT_EQ(stores.disk().Range(old_read).status().message(),
            "etcdserver: mvcc: required revision has been compacted");
  EXPECT_EQ(stores.disk().HashKV(target - 1).status().code(), absl::StatusCode::kOutOfRange);
  stores.ExpectSameState();
  EXPECT_LT(stores.VisibleVersions(), first_step.versions);

  // Later entries, writes or empty ones, finish it in bounded steps.
  stores.Apply(Wrap(PutReq("key1", "later")));
  stores.ExpectSameState();
  const int entries = stores.ApplyEmptyEntriesUntilCompacted(2 * kManyRevisions);
  EXPECT_FALSE(stores.engine().compaction_in_progress());
  // Each step walked its bound, no more (the last 500 revisions wrote fewer than 1,000 records).
  EXPECT_GE(entries + 2, (before.revision_log - 1000) / RecordsPerCommit());
  const RocksDbEngine::StoredRecords after = stores.engine().CountStoredRecords();
  EXPECT_EQ(after.versions, stores.VisibleVersions()) << "old versions are left on disk";
  EXPECT_LT(after.revision_log, 1000);
  EXPECT_LT(after.obsolete_marks, 1000);
  stores.ExpectSameState();
}

TEST(RocksDbEngine, StepsBetweenEntriesFinishACompactionWithoutChangingTheState) {
  TempDir dir;
  TwinStores stores(dir.path());
  WriteManyRevisions(stores);
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  stores.Apply(CompactReq(stores.memory().revision() - 500));
  ASSERT_TRUE(stores.disk().compaction_in_progress());
  EXPECT_FALSE(stores.memory().compaction_in_progress()) << "the memory engine frees at once";
  EXPECT_FALSE(stores.memory().ContinueCompaction());
  const EngineMeta meta = stores.engine().meta();

  int steps = 0;
  while (stores.disk().ContinueCompaction()) ASSERT_LT(++steps, 2 * kManyRevisions);
  EXPECT_FALSE(stores.disk().compaction_in_progress());
  EXPECT_GE(steps, kManyRevisions / RecordsPerCommit() - 2) << "a step walked past its bound";
  EXPECT_EQ(stores.engine().meta(), meta);
  EXPECT_EQ(stores.engine().CountStoredRecords().versions, stores.VisibleVersions());
  stores.ExpectSameState();
  // The steps are committed: a reopened engine has nothing left to do.
  stores.Reopen();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  EXPECT_FALSE(stores.disk().compaction_in_progress());
  stores.ExpectSameState();
}

TEST(RocksDbEngine, AnEngineClosedMidCompactionResumesItWhenReopenedAndLosesNothing) {
  TempDir dir;
  TempDir never_closed_dir;
  TwinStores stores(dir.path());
  TwinStores never_closed(never_closed_dir.path());
  auto both = [&](const kvpb::Request& request) {
    stores.Apply(request);
    never_closed.Apply(request);
  };
  for (int i = 0; i < 3000; ++i) {
    both(Wrap(PutReq("k" + std::to_string(i % 40), i % 5 == 4 ? "" : std::to_string(i))));
  }
  both(CompactReq(2500));
  both(Wrap(PutReq("after", "1")));
  ASSERT_TRUE(stores.engine().compaction_in_progress());
  const RocksDbEngine::StoredRecords at_close = stores.engine().CountStoredRecords();

  stores.Reopen();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  EXPECT_TRUE(stores.engine().compaction_in_progress());
  EXPECT_EQ(stores.engine().CountStoredRecords().revision_log, at_close.revision_log);
  stores.ExpectSameState();

  // An engine closed with the batch of a compaction open never compacted: the batch is gone.
  stores.engine().Compact(2900);
  stores.Reopen();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  EXPECT_EQ(stores.disk().compact_revision(), 2500);
  stores.ExpectSameState();

  both(Wrap(PutReq("after", "2")));
  stores.ApplyEmptyEntriesUntilCompacted(100);
  never_closed.ApplyEmptyEntriesUntilCompacted(100);
  EXPECT_FALSE(stores.engine().compaction_in_progress());
  stores.ExpectSameState();
  EXPECT_EQ(stores.disk().HashKV(0)->hash, never_closed.disk().HashKV(0)->hash);
  EXPECT_EQ(stores.disk().Snapshot(), never_closed.disk().Snapshot());
  EXPECT_EQ(stores.engine().CountStoredRecords().versions, stores.VisibleVersions());
  EXPECT_EQ(stores.disk().live_keys(), 41);
}

// A compaction applied while an earlier one is still dropping versions takes over its walk: the
// later revision is the target from then on, and the accounting is each one's own.
TEST(RocksDbEngine, ASecondCompactionWhileTheFirstIsInProgressTakesOverItsWalk) {
  TempDir dir;
  RocksDbEngine::Options options;
  options.compaction_records_per_commit = 50;
  TwinStores stores(dir.path(), options);
  for (int i = 0; i < 2000; ++i) {
    stores.Apply(i % 9 == 8 ? Wrap(DelReq("k" + std::to_string(i % 30)))
                            : Wrap(PutReq("k" + std::to_string(i % 30), std::string(i % 11, 'x'))));
  }
  stores.Apply(CompactReq(1000));
  stores.ApplyEmptyEntry();
  stores.ApplyEmptyEntry();
  ASSERT_TRUE(stores.engine().compaction_in_progress());
  stores.ExpectSameState();
  stores.Apply(CompactReq(1800));
  stores.ExpectSameState();
  stores.Apply(Wrap(PutReq("k1", "new")));
  stores.Apply(CompactReq(1900));  // a third, right after
  stores.ExpectSameState();
  EXPECT_LT(stores.ApplyEmptyEntriesUntilCompacted(1000), 1000);
  EXPECT_FALSE(stores.engine().compaction_in_progress());
  stores.ExpectSameState();
  EXPECT_EQ(stores.engine().CountStoredRecords().versions, stores.VisibleVersions());
  // A restart after the walk is done finds nothing to do.
  stores.Reopen();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  EXPECT_FALSE(stores.engine().compaction_in_progress());
  stores.ExpectSameState();
}

// A snapshot restore replaces everything, a compaction in progress included: the restored state
// has no obsolete versions, and compactions after it free exactly what the memory store frees.
TEST(RocksDbEngine, ARestoreInTheMiddleOfACompactionReplacesItAndLaterCompactionsCountExactly) {
  TempDir dir;
  RocksDbEngine::Options options;
  options.compaction_records_per_commit = 10;
  TwinStores stores(dir.path(), options);
  for (int i = 0; i < 400; ++i) {
    stores.Apply(i % 6 == 5 ? Wrap(DelReq("k" + std::to_string(i % 13)))
                            : Wrap(PutReq("k" + std::to_string(i % 13), std::to_string(i))));
  }
  stores.Apply(CompactReq(100));
  const std::string snapshot = stores.memory().Snapshot();
  stores.Apply(CompactReq(300));
  ASSERT_TRUE(stores.engine().compaction_in_progress());
  ASSERT_TRUE(stores.memory().Restore(snapshot).ok());
  ASSERT_TRUE(stores.disk().Restore(snapshot).ok());
  EXPECT_FALSE(stores.engine().compaction_in_progress());
  stores.ExpectSameState();
  stores.Apply(CompactReq(250));
  stores.ExpectSameState();
  stores.Apply(CompactReq(stores.memory().revision()));
  stores.ExpectSameState();
  stores.ApplyEmptyEntriesUntilCompacted(1000);
  EXPECT_EQ(stores.engine().CountStoredRecords().versions, stores.VisibleVersions());
  stores.ExpectSameState();
}

// Removes what the engine writes since compaction runs in steps (the compaction record and the
// obsolete-bytes marks), leaving a directory as the engine wrote it before.
void RemoveCompactionRecords(const std::string& dir) {
  namespace format = rocksdb_format;
  const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, {}},
      {std::string(format::kVersionsFamily), {}},
      {std::string(format::kRevisionsFamily), {}},
      {std::string(format::kMetaFamily), {}},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir, families, &handles, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::ColumnFamilyHandle* meta = handles[3];
  std::vector<std::string> doomed = {std::string(format::kCompactionKey)};
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), meta));
  for (it->Seek(std::string(1, format::kObsoleteMarkPrefix));
       it->Valid() && it->key()[0] == format::kObsoleteMarkPrefix; it->Next()) {
    doomed.push_back(it->key().ToString());
  }
  it.reset();  // before the handles and the database it reads
  EXPECT_GT(doomed.size(), 1u) << "no obsolete-bytes marks to remove";
  for (const std::string& key : doomed) ASSERT_TRUE(db->Delete({}, meta, key).ok());
  for (rocksdb::ColumnFamilyHandle* handle : handles) db->DestroyColumnFamilyHandle(handle);
  ASSERT_TRUE(db->Close().ok());
}

// A directory from before compaction ran in steps has no marks to tell what a compaction frees:
// opening it counts them from the revision log, so that its first compaction frees exactly what
// the memory store frees, and later ones too.
TEST(RocksDbEngine, ADirectoryWrittenBeforeCompactionRanInStepsOpensAndCompactsExactly) {
  TempDir dir;
  TwinStores stores(dir.path());
  for (int i = 0; i < 600; ++i) {
    stores.Apply(i % 8 == 7 ? Wrap(DelReq("k" + std::to_string(i % 17)))
                            : Wrap(PutReq("k" + std::to_string(i % 17), std::to_string(i * i))));
  }
  stores.Apply(CompactReq(200));
  ASSERT_FALSE(stores.engine().compaction_in_progress());
  for (int i = 0; i < 300; ++i) {
    stores.Apply(i % 5 == 4 ? Wrap(DelReq("k" + std::to_string(i % 19)))
                            : Wrap(PutReq("k" + std::to_string(i % 19), std::string(i % 13, 'w'))));
  }
  stores.ExpectSameState();
  const std::string before = stores.disk().Snapshot();
  stores.Close();
  RemoveCompactionRecords(dir.path());
  ASSERT_FALSE(::testing::Test::HasFatalFailure());

  stores.Reopen();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  EXPECT_EQ(stores.disk().Snapshot(), before);
  EXPECT_FALSE(stores.engine().compaction_in_progress());
  EXPECT_GT(stores.engine().CountStoredRecords().obsolete_marks, 0);
  stores.Apply(CompactReq(stores.memory().revision() - 100));
  stores.ExpectSameState();
  stores.Apply(Wrap(PutReq("k1", "after")));
  stores.Apply(CompactReq(stores.memory().revision()));
  stores.ExpectSameState();
  stores.ApplyEmptyEntriesUntilCompacted(100);
  EXPECT_EQ(stores.engine().CountStoredRecords().versions, stores.VisibleVersions());
  stores.ExpectSameState();
}

kvpb::Request InSession(kvpb::Request request, uint64_t client, uint64_t sequence) {
  request.set_client_id(client);
  request.set_sequence(sequence);
  request.set_time_ms(1'700'000'000'000);
  return request;
}

TEST(RocksDbEngine, SessionsSurviveAReopenAndGoOnAnsweringRetries) {
  TempDir dir;
  const kvpb::Request put = InSession(Wrap(PutReq("k", "v")), 42, 1);
  std::string first;
  std::string snapshot;
  {
    std::unique_ptr<Store> store = MustOpenStore(dir.path());
    ASSERT_NE(store, nullptr);
    absl::StatusOr<kvpb::Response> answer = store->Apply(put, 1);
    ASSERT_TRUE(answer.ok());
    first = answer->SerializeAsString();
    snapshot = store->Snapshot();
  }
  std::unique_ptr<Store> reopened = MustOpenStore(dir.path());
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->session_count(), 1u);
  EXPECT_EQ(reopened->SessionSequence(42), 1u);
  EXPECT_EQ(reopened->log_clock_ms(), 1'700'000'000'000);
  EXPECT_EQ(reopened->Snapshot(), snapshot);
  const int64_t revision = reopened->revision();
  absl::StatusOr<kvpb::Response> retry = reopened->Apply(put, 2);
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->SerializeAsString(), first);
  EXPECT_EQ(reopened->revision(), revision);
  EXPECT_EQ(reopened->Apply(InSession(Wrap(PutReq("k", "v")), 42, 2), 3)->put().header().revision(),
            revision + 1);
}

TEST(RocksDbEngine, SessionWritesAreReadableInTheirBatchAndGoneIfItIsNotCommitted) {
  TempDir dir;
  {
    std::unique_ptr<RocksDbEngine> engine = MustOpen(dir.path());
    ASSERT_NE(engine, nullptr);
    engine->PutSession(7, "committed");
    engine->Commit(EngineMeta{.applied_index = 1});
    engine->PutSession(8, "open");
    engine->DeleteSession(7);
    EXPECT_EQ(engine->FindSession(8), "open");
    EXPECT_EQ(engine->FindSession(7), std::nullopt);
  }
  std::unique_ptr<RocksDbEngine> engine = MustOpen(dir.path());
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(engine->FindSession(7), "committed");
  EXPECT_EQ(engine->FindSession(8), std::nullopt);
  std::vector<uint64_t> clients;
  engine->ForEachSession([&](uint64_t client, std::string_view) { clients.push_back(client); });
  EXPECT_EQ(clients, std::vector<uint64_t>{7});
}

TEST(RocksDbEngine, SyncSucceedsOnAnOpenEngine) {
  TempDir dir;
  std::unique_ptr<Store> store = MustOpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Apply(Wrap(PutReq("k", "v")), 1).ok());
  EXPECT_TRUE(store->Sync().ok());
}

TEST(RocksDbEngine, OpeningWhereADirectoryCannotBeFailsWithAStatus) {
  TempDir dir;
  const std::string file = dir.path() + "/a-file";
  std::ofstream(file) << "not a directory";
  absl::StatusOr<std::unique_ptr<RocksDbEngine>> engine = RocksDbEngine::Open(file + "/db");
  EXPECT_FALSE(engine.ok());
}

TEST(RocksDbEngine, RestoringAMemoryStoreSnapshotReplacesEverything) {
  Store memory;
  ASSERT_TRUE(memory.Apply(LeaseGrant(3, 30), 1).ok());
  auto put = PutReq("leased", "v");
  put.set_lease(3);
  ASSERT_TRUE(memory.Apply(Wrap(put), 2).ok());
  ASSERT_TRUE(memory.Apply(Wrap(PutReq("plain", "p")), 3).ok());
  const std::string snapshot = memory.Snapshot();

  TempDir dir;
  {
    std::unique_ptr<Store> disk = MustOpenStore(dir.path());
    ASSERT_NE(disk, nullptr);
    // State that the restore must remove.
    ASSERT_TRUE(disk->Apply(LeaseGrant(9, 30), 1).ok());
    ASSERT_TRUE(disk->Apply(Wrap(PutReq("stale", "s")), 2).ok());
    ASSERT_TRUE(disk->Restore(snapshot).ok());
    EXPECT_EQ(disk->Snapshot(), snapshot);
  }
  std::unique_ptr<Store> reopened = MustOpenStore(dir.path());
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->Snapshot(), snapshot);
  EXPECT_EQ(reopened->applied_index(), 3u);
  EXPECT_FALSE(reopened->FindLease(9, false).has_value());
  EXPECT_EQ(reopened->FindLease(3, true)->keys, std::vector<std::string>{"leased"});
  EXPECT_EQ(reopened->Range(RangeReq("stale"))->count(), 0);
}

// A checkpoint is how a snapshot of a state on disk travels: it must reopen as the same state,
// at the same applied index, and never change the engine it was taken from.
TEST(RocksDbEngine, ACheckpointReopensAsTheSameStateAtTheSameAppliedIndex) {
  TempDir dir;
  std::string before;
  {
    std::unique_ptr<Store> store = MustOpenStore(dir.path() + "/db");
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->can_checkpoint());
    ASSERT_TRUE(store->Apply(LeaseGrant(3, 30), 1).ok());
    auto put = PutReq("leased", "v");
    put.set_lease(3);
    ASSERT_TRUE(store->Apply(Wrap(put), 2).ok());
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(store->Apply(Wrap(PutReq("k" + std::to_string(i % 10), "v")), 3 + i).ok());
    }
    store->MarkApplied(103, "members at 103");
    ASSERT_TRUE(store->PrepareCheckpoint().ok());
    ASSERT_TRUE(store->Checkpoint(dir.path() + "/checkpoint").ok());
    before = store->Snapshot();
    // The engine goes on after its checkpoint; the checkpoint does not.
    ASSERT_TRUE(store->Apply(Wrap(PutReq("later", "v")), 104).ok());
  }
  std::unique_ptr<Store> copy = MustOpenStore(dir.path() + "/checkpoint");
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(copy->applied_index(), 103u);
  EXPECT_EQ(copy->cluster_state(), "members at 103");
  EXPECT_EQ(copy->Snapshot(), before);
  EXPECT_EQ(copy->Range(RangeReq("later"))->count(), 0);
  std::unique_ptr<Store> original = MustOpenStore(dir.path() + "/db");
  ASSERT_NE(original, nullptr);
  EXPECT_EQ(original->applied_index(), 104u);
}

TEST(RocksDbEngine, ACheckpointIntoAnExistingDirectoryFailsWithAStatus) {
  TempDir dir;
  std::unique_ptr<Store> store = MustOpenStore(dir.path() + "/db");
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(store->Checkpoint(dir.path()).ok());
}

TEST(RocksDbEngine, AStoreInMemoryCannotCheckpoint) {
  TempDir dir;
  Store memory;
  EXPECT_FALSE(memory.can_checkpoint());
  EXPECT_EQ(memory.Checkpoint(dir.path() + "/checkpoint").code(), absl::StatusCode::kUnimplemented);
}

// Installing a received checkpoint swaps the store's engine: everything the store caches about
// its engine (revisions, applied index, raised alarms, the index of client sessions) must come
// from the new one.
TEST(RocksDbEngine, AStoreOnAReplacedEngineHasTheNewEnginesStateOnly) {
  TempDir dir;
  {
    std::unique_ptr<Store> source = MustOpenStore(dir.path() + "/source");
    ASSERT_NE(source, nullptr);
    ASSERT_TRUE(source->Apply(Wrap(PutReq("a", "1")), 5).ok());
    ASSERT_TRUE(source->Apply(InSession(Wrap(PutReq("b", "2")), 42, 1), 6).ok());
  }
  Store store;
  ASSERT_TRUE(store.Apply(InSession(Wrap(PutReq("x", "9")), 7, 1), 1).ok());
  kvpb::Request alarm;
  alarm.mutable_alarm()->set_action(etcdserverpb::AlarmRequest::ACTIVATE);
  alarm.mutable_alarm()->set_memberid(1);
  alarm.mutable_alarm()->set_alarm(etcdserverpb::NOSPACE);
  ASSERT_TRUE(store.Apply(alarm, 2).ok());
  ASSERT_TRUE(store.space_exceeded());
  std::unique_ptr<Engine> previous = store.ReplaceEngine(MustOpen(dir.path() + "/source"));
  ASSERT_NE(previous, nullptr);
  EXPECT_EQ(store.applied_index(), 6u);
  EXPECT_EQ(store.revision(), 3);
  EXPECT_FALSE(store.space_exceeded());
  EXPECT_EQ(store.Range(RangeReq("b"))->kvs(0).value(), "2");
  EXPECT_EQ(store.session_count(), 1u);
  EXPECT_EQ(store.SessionSequence(42), 1u);
  EXPECT_EQ(store.SessionSequence(7), std::nullopt);
  ASSERT_TRUE(store.Apply(Wrap(PutReq("c", "3")), 7).ok());
  EXPECT_EQ(store.revision(), 4);
}

}  // namespace
}  // namespace raftkv::kv
