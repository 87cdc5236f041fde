#include "kv/rocksdb_engine.h"

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "fmt/format.h"
#include "kv/invariant.h"
#include "kv/rocksdb_format.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/iterator.h"
#include "rocksdb/cache.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/utilities/write_batch_with_index.h"
#include "rocksdb/write_batch.h"

namespace raftkv::kv {
namespace {

namespace format = rocksdb_format;

std::string_view View(const rocksdb::Slice& slice) { return {slice.data(), slice.size()}; }

void CheckOk(const rocksdb::Status& status, std::string_view what) {
  if (!status.ok()) FatalEngineError(what, status.ToString());
}

std::string Printable(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  return out;
}

format::DecodedVersionKey DecodeKeyOrDie(const rocksdb::Iterator& it) {
  std::optional<format::DecodedVersionKey> key = format::DecodeVersionKey(View(it.key()));
  if (!key) FatalEngineError("corrupt version key", Printable(View(it.key())));
  return *std::move(key);
}

Version DecodeVersionOrDie(const rocksdb::Iterator& it, int64_t mod_revision) {
  std::optional<Version> version = format::DecodeVersion(View(it.value()), mod_revision);
  if (!version) FatalEngineError("corrupt version record", Printable(View(it.key())));
  return *std::move(version);
}

bool HasPrefix(const rocksdb::Slice& slice, std::string_view prefix) {
  return View(slice).substr(0, prefix.size()) == prefix;
}

// How many older versions of a key a scan steps over before it seeks past the rest.
constexpr int kStepsBeforeSeek = 4;

// The prefix of a version key that names the key: everything but the 8-byte revision. Bloom
// filters are built over these prefixes, so that a point read (a seek within one key's
// versions) skips every table file that holds no version of the key, which is most of them once
// the data spans several levels.
class KeyOfVersionTransform final : public rocksdb::SliceTransform {
 public:
  // Part of the files' properties: a new name would leave existing filters unused, not wrong.
  const char* Name() const override { return "raftkv.KeyOfVersion"; }
  rocksdb::Slice Transform(const rocksdb::Slice& version_key) const override {
    return {version_key.data(), version_key.size() - 8};
  }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() >= 8; }
};

// Table options shared by the column families: one block cache for all of them, and filters on
// the key prefixes of the versions family (the other families are read in order, by scans).
rocksdb::ColumnFamilyOptions FamilyOptions(const std::shared_ptr<rocksdb::Cache>& cache,
                                           bool key_prefix_filters) {
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  // Index and filter blocks count against the cache rather than growing beside it, so that the
  // engine's memory stays bounded by the cache size whatever the data size.
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  rocksdb::ColumnFamilyOptions options;
  if (key_prefix_filters) {
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    table.whole_key_filtering = false;  // reads seek within a key, never look a version up
    options.prefix_extractor = std::make_shared<KeyOfVersionTransform>();
    options.memtable_prefix_bloom_size_ratio = 0.05;
  }
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

// Above every revision: a read there finds a key's newest version.
constexpr int64_t kNewest = std::numeric_limits<int64_t>::max();

// How many obsolete-bytes marks one write of BuildObsoleteMarks carries.
constexpr int kMarksPerWrite = 1000;

// Removes from a key's history (newest first) what a compaction at `compact_revision` drops:
// everything below the newest version at or below it, and that version too when it is a
// tombstone. The walk of a compaction in progress may not have dropped it from disk yet.
void DropCompactedHistory(std::vector<Version>& newest_first, int64_t compact_revision) {
  auto at_or_below = std::find_if(newest_first.begin(), newest_first.end(), [&](const Version& v) {
    return v.mod_revision <= compact_revision;
  });
  if (at_or_below == newest_first.end()) return;
  newest_first.erase(at_or_below->tombstone ? at_or_below : std::next(at_or_below),
                     newest_first.end());
}

bool IsTombstoneRecord(const rocksdb::Iterator& it) {
  return it.value().size() == 1 && it.value()[0] == 1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RocksDbEngine>> RocksDbEngine::Open(const std::string& dir,
                                                                   Options options) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  // The column families of one commit are flushed together, so that an engine reopened without
  // its log (Options::write_ahead_log off) never holds the meta of one entry and the versions
  // of another.
  db_options.atomic_flush = true;
  // RocksDB's own text log (LOG, LOG.old.*) would otherwise grow and accumulate without bound.
  db_options.max_log_file_size = 8 << 20;
  db_options.keep_log_file_num = 4;
  // RocksDB flushes at close only what its log does not hold (Options::flush_memtables_at_close).
  db_options.avoid_flush_during_shutdown = !options.flush_memtables_at_close;
  // A file system given for tests reaches RocksDB through an Env of its own (RocksDB 7.8's
  // DBOptions has no file system field); the engine keeps it for as long as the database.
  std::unique_ptr<rocksdb::Env> env;
  if (options.file_system != nullptr) {
    env = rocksdb::NewCompositeEnv(options.file_system);
    db_options.env = env.get();
  }
  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  const rocksdb::ColumnFamilyOptions ordered = FamilyOptions(cache, false);
  const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, ordered},
      {std::string(format::kVersionsFamily), FamilyOptions(cache, true)},
      {std::string(format::kRevisionsFamily), ordered},
      {std::string(format::kMetaFamily), ordered},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(db_options, dir, families, &handles, &db);
  if (!status.ok()) {
    return absl::UnavailableError(
        fmt::format("cannot open the kv engine in {}: {}", dir, status.ToString()));
  }
  std::unique_ptr<RocksDbEngine> engine(new RocksDbEngine());
  engine->options_ = options;
  engine->dir_ = dir;
  engine->env_ = std::move(env);
  engine->db_.reset(db);
  engine->default_ = handles[0];
  engine->versions_ = handles[1];
  engine->revisions_ = handles[2];
  engine->meta_family_ = handles[3];
  engine->batch_ = std::make_unique<rocksdb::WriteBatchWithIndex>(rocksdb::BytewiseComparator(), 0,
                                                                  /*overwrite_key=*/true);

  std::string record;
  status = db->Get(rocksdb::ReadOptions(), engine->meta_family_, format::kMetaKey, &record);
  if (status.ok()) {
    std::optional<EngineMeta> meta = format::DecodeMeta(record);
    if (!meta) {
      return absl::DataLossError(fmt::format("kv engine in {} has a corrupt meta record", dir));
    }
    engine->meta_ = *meta;
  } else if (!status.IsNotFound()) {
    return absl::DataLossError(
        fmt::format("cannot read the kv engine's meta in {}: {}", dir, status.ToString()));
  }

  status = db->Get(rocksdb::ReadOptions(), engine->meta_family_, format::kClusterStateKey,
                   &engine->cluster_state_);
  if (!status.ok() && !status.IsNotFound()) {
    return absl::DataLossError(
        fmt::format("cannot read the kv engine's cluster state in {}: {}", dir, status.ToString()));
  }

  // Leases and alarms are few: they are read once and then kept in memory too.
  std::unique_ptr<rocksdb::Iterator> it = engine->NewDbIterator(engine->meta_family_);
  for (it->Seek(std::string(1, format::kAlarmPrefix));
       it->Valid() && HasPrefix(it->key(), std::string(1, format::kAlarmPrefix)); it->Next()) {
    auto alarm = format::DecodeAlarmKey(View(it->key()));
    if (!alarm) {
      return absl::DataLossError(fmt::format("kv engine in {} has a corrupt alarm record", dir));
    }
    engine->alarms_.insert(*alarm);
  }
  for (it->Seek(std::string(1, format::kLeasePrefix));
       it->Valid() && HasPrefix(it->key(), std::string(1, format::kLeasePrefix)); it->Next()) {
    auto id = format::DecodeLeaseKey(View(it->key()));
    auto ttl = format::DecodeInt64(View(it->value()));
    if (!id || !ttl) {
      return absl::DataLossError(fmt::format("kv engine in {} has a corrupt lease record", dir));
    }
    engine->leases_.emplace(*id, *ttl);
  }
  if (!it->status().ok()) {
    return absl::DataLossError(
        fmt::format("cannot read the kv engine's leases in {}: {}", dir, it->status().ToString()));
  }
  engine->visible_compact_revision_ = engine->meta_.compact_revision;
  if (absl::Status loaded = engine->LoadCompaction(); !loaded.ok()) return loaded;
  return engine;
}

absl::Status RocksDbEngine::LoadCompaction() {
  std::string record;
  const rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), meta_family_, format::kCompactionKey, &record);
  if (status.IsNotFound()) return BuildObsoleteMarks();
  if (!status.ok()) {
    return absl::DataLossError(fmt::format(
        "cannot read the kv engine's compaction record in {}: {}", dir_, status.ToString()));
  }
  std::optional<format::CompactionRecord> compaction = format::DecodeCompactionRecord(record);
  if (!compaction) {
    return absl::DataLossError(
        fmt::format("kv engine in {} has a corrupt compaction record", dir_));
  }
  compaction_ = *std::move(compaction);
  obsolete_bytes_ = ObsoleteBytesThrough(kNewest);
  return absl::OkStatus();
}

// A directory written before compaction ran in steps (or a fresh one) has no compaction record
// and no marks. Its revision log then holds the writes since the last compaction, which left no
// obsolete version behind, so one pass over the log counts, revision by revision, what each
// write made obsolete. A crash during the pass leaves no compaction record: the next open does
// it again and writes the same marks.
absl::Status RocksDbEngine::BuildObsoleteMarks() {
  std::unique_ptr<rocksdb::Iterator> log = NewDbIterator(revisions_);
  std::unique_ptr<rocksdb::Iterator> versions = NewDbIterator(versions_);
  rocksdb::WriteBatch marks;
  auto write = [&]() -> absl::Status {
    rocksdb::WriteOptions write_options;
    write_options.disableWAL = !options_.write_ahead_log;
    const rocksdb::Status status = db_->Write(write_options, &marks);
    marks.Clear();
    if (status.ok()) return absl::OkStatus();
    return absl::InternalError(fmt::format(
        "cannot write the kv engine's obsolete-bytes marks in {}: {}", dir_, status.ToString()));
  };
  int64_t revision = 0;
  int64_t at_revision = 0;
  auto end_revision = [&]() -> absl::Status {
    if (at_revision > 0) {
      obsolete_bytes_ += at_revision;
      at_revision = 0;
      CheckOk(marks.Put(meta_family_, format::ObsoleteMarkKey(revision),
                        format::EncodeInt64(obsolete_bytes_)),
              "writing an obsolete-bytes mark");
    }
    return marks.Count() >= kMarksPerWrite ? write() : absl::OkStatus();
  };
  obsolete_bytes_ = 0;
  for (log->SeekToFirst(); log->Valid(); log->Next()) {
    std::optional<format::DecodedRevisionKey> entry = format::DecodeRevisionKey(View(log->key()));
    if (!entry) FatalEngineError("corrupt revision log key", Printable(View(log->key())));
    if (entry->revision != revision) {
      if (absl::Status status = end_revision(); !status.ok()) return status;
      revision = entry->revision;
    }
    // The write's version, a tombstone, is obsolete at once; the live version before it, now.
    const std::string prefix = format::VersionKeyPrefix(entry->key);
    versions->Seek(format::VersionKey(entry->key, revision));
    if (!versions->Valid() || !HasPrefix(versions->key(), prefix)) {
      FatalEngineError("the revision log names a version that is missing",
                       fmt::format("{} at {}", Printable(entry->key), revision));
    }
    if (IsTombstoneRecord(*versions)) at_revision += VersionBytes(entry->key.size(), 0);
    versions->Next();
    if (versions->Valid() && HasPrefix(versions->key(), prefix) && !IsTombstoneRecord(*versions)) {
      const Version before = DecodeVersionOrDie(*versions, DecodeKeyOrDie(*versions).revision);
      at_revision += VersionBytes(entry->key.size(), before.value.size());
    }
    CheckOk(versions->status(), "reading versions");
  }
  CheckOk(log->status(), "reading the revision log");
  if (absl::Status status = end_revision(); !status.ok()) return status;
  // The walk starts at the first record: a restore by an earlier version logged the versions it
  // kept at or below the compaction revision too.
  compaction_ = format::CompactionRecord{};
  CheckOk(
      marks.Put(meta_family_, format::kCompactionKey, format::EncodeCompactionRecord(compaction_)),
      "writing the compaction record");
  return write();
}

RocksDbEngine::~RocksDbEngine() {
  if (!db_) return;
  for (rocksdb::ColumnFamilyHandle* handle : {default_, versions_, revisions_, meta_family_}) {
    if (handle != nullptr) db_->DestroyColumnFamilyHandle(handle);
  }
  db_->Close().PermitUncheckedError();
}

bool RocksDbEngine::BatchIsEmpty() const { return batch_->GetWriteBatch()->Count() == 0; }

std::unique_ptr<rocksdb::Iterator> RocksDbEngine::NewDbIterator(rocksdb::ColumnFamilyHandle* family,
                                                                Extent extent) const {
  rocksdb::ReadOptions read;
  // With a prefix extractor (the versions family) an iterator is in prefix mode by default and
  // its order past the first key's prefix is undefined; scans need the total order.
  read.total_order_seek = extent == Extent::kOrdered;
  read.prefix_same_as_start = extent == Extent::kOneKey;
  return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(read, family));
}

std::unique_ptr<rocksdb::Iterator> RocksDbEngine::NewIterator(rocksdb::ColumnFamilyHandle* family,
                                                              Extent extent) const {
  std::unique_ptr<rocksdb::Iterator> base = NewDbIterator(family, extent);
  if (BatchIsEmpty()) return base;
  return std::unique_ptr<rocksdb::Iterator>(batch_->NewIteratorWithBase(family, base.release()));
}

bool RocksDbEngine::Read(std::string_view key, int64_t revision, ReadFn fn) const {
  std::unique_ptr<rocksdb::Iterator> it = NewIterator(versions_, Extent::kOneKey);
  it->Seek(format::VersionKey(key, revision));
  CheckOk(it->status(), "reading a key");
  if (!it->Valid() || !HasPrefix(it->key(), format::VersionKeyPrefix(key))) return false;
  const Version version = DecodeVersionOrDie(*it, DecodeKeyOrDie(*it).revision);
  if (version.tombstone) return false;
  fn(version);
  return true;
}

void RocksDbEngine::Scan(const KeyRange& range, int64_t revision, ScanFn fn) const {
  if (!range.end.empty() && range.end <= range.begin) return;
  // A range of one key (etcd's Get) is a point read: its seek may skip files by their filters.
  const bool one_key = range.end.size() == range.begin.size() + 1 && range.end.back() == '\0' &&
                       range.end.starts_with(range.begin);
  std::unique_ptr<rocksdb::Iterator> it =
      NewIterator(versions_, one_key ? Extent::kOneKey : Extent::kOrdered);
  it->Seek(format::VersionKey(range.begin, revision));
  while (it->Valid()) {
    format::DecodedVersionKey entry = DecodeKeyOrDie(*it);
    if (!range.Contains(entry.key)) break;
    if (entry.revision > revision) {
      // Newer than the read: the key's newest version at or below it is one seek further (or
      // the key has none, and the seek lands on the next key).
      it->Seek(format::VersionKey(entry.key, revision));
      continue;
    }
    const Version version = DecodeVersionOrDie(*it, entry.revision);
    if (!version.tombstone && !fn(entry.key, version)) return;
    if (one_key) break;
    // On to the next key. Most keys keep few versions, so stepping is cheaper than seeking past
    // them; a key with a long history is skipped with one seek.
    const std::string prefix(View(it->key()).substr(0, it->key().size() - 8));
    int steps = 0;
    for (it->Next(); it->Valid() && HasPrefix(it->key(), prefix); it->Next()) {
      if (++steps == kStepsBeforeSeek) {
        it->Seek(format::VersionKeyLimit(entry.key));
        break;
      }
    }
  }
  CheckOk(it->status(), "scanning keys");
}

void RocksDbEngine::History(const KeyRange& range, int64_t from, int64_t through,
                            EventFn fn) const {
  // The revision log lists the writes in (revision, key) order; each one is then read from the
  // versions with the version before it.
  std::unique_ptr<rocksdb::Iterator> log = NewIterator(revisions_);
  std::unique_ptr<rocksdb::Iterator> versions = NewIterator(versions_);
  for (log->Seek(format::RevisionKey(from + 1, "")); log->Valid(); log->Next()) {
    std::optional<format::DecodedRevisionKey> write = format::DecodeRevisionKey(View(log->key()));
    if (!write) FatalEngineError("corrupt revision log key", Printable(View(log->key())));
    if (write->revision > through) break;
    if (!range.Contains(write->key)) continue;
    const std::string key(write->key);
    versions->Seek(format::VersionKey(key, write->revision));
    CheckOk(versions->status(), "reading history");
    if (!versions->Valid() || DecodeKeyOrDie(*versions).revision != write->revision ||
        !HasPrefix(versions->key(), format::VersionKeyPrefix(key))) {
      FatalEngineError("the revision log names a version that is missing",
                       fmt::format("{} at {}", Printable(key), write->revision));
    }
    const Version version = DecodeVersionOrDie(*versions, write->revision);
    std::optional<Version> prev;
    versions->Next();
    CheckOk(versions->status(), "reading history");
    if (versions->Valid() && HasPrefix(versions->key(), format::VersionKeyPrefix(key))) {
      prev = DecodeVersionOrDie(*versions, DecodeKeyOrDie(*versions).revision);
      // A tombstone at or below the compaction revision is dropped, if maybe not yet from disk.
      if (prev->tombstone && prev->mod_revision <= visible_compact_revision_) prev.reset();
    }
    if (!fn(key, version, prev ? &*prev : nullptr)) return;
  }
  CheckOk(log->status(), "reading the revision log");
}

void RocksDbEngine::ForEachKeyHistory(KeyHistoryFn fn) const {
  std::unique_ptr<rocksdb::Iterator> it = NewIterator(versions_);
  std::string key;
  std::vector<Version> history;  // newest first, as stored
  auto flush = [&] {
    DropCompactedHistory(history, visible_compact_revision_);
    if (history.empty()) return;
    std::reverse(history.begin(), history.end());
    fn(key, history);
    history.clear();
  };
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    format::DecodedVersionKey entry = DecodeKeyOrDie(*it);
    if (entry.key != key) {
      flush();
      key = std::move(entry.key);
    }
    history.push_back(DecodeVersionOrDie(*it, entry.revision));
  }
  CheckOk(it->status(), "reading every key");
  flush();
}

std::optional<int64_t> RocksDbEngine::LeaseTtl(int64_t id) const {
  auto it = leases_.find(id);
  if (it == leases_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::pair<int64_t, int64_t>> RocksDbEngine::Leases() const {
  return {leases_.begin(), leases_.end()};
}

std::vector<std::string> RocksDbEngine::LeaseKeys(int64_t id) const {
  std::vector<std::string> keys;
  const std::string prefix = format::LeaseKeysPrefix(id);
  std::unique_ptr<rocksdb::Iterator> it = NewIterator(meta_family_);
  for (it->Seek(prefix); it->Valid() && HasPrefix(it->key(), prefix); it->Next()) {
    keys.emplace_back(View(it->key()).substr(prefix.size()));
  }
  CheckOk(it->status(), "reading a lease's keys");
  return keys;
}

int64_t RocksDbEngine::BytesObsoletedBy(std::string_view key, const Version& version,
                                        std::optional<size_t> live_value_bytes) {
  int64_t bytes = version.tombstone ? VersionBytes(key.size(), 0) : 0;
  // A tombstone before it was counted at its own revision.
  if (live_value_bytes.has_value()) bytes += VersionBytes(key.size(), *live_value_bytes);
  return bytes;
}

void RocksDbEngine::AppendVersion(std::string_view key, Version version,
                                  std::optional<size_t> live_value_bytes) {
#ifndef NDEBUG
  // The caller's word saves a read; debug builds read anyway and compare.
  std::optional<size_t> read_live;
  Read(key, kNewest, [&](const Version& live) { read_live = live.value.size(); });
  RAFTKV_KV_INVARIANT(read_live == live_value_bytes);
#endif
  if (const int64_t obsoleted = BytesObsoletedBy(key, version, live_value_bytes); obsoleted > 0) {
    batch_obsolete_bytes_[version.mod_revision] += obsoleted;
  }
  CheckOk(batch_->Put(versions_, format::VersionKey(key, version.mod_revision),
                      format::EncodeVersion(version)),
          "writing a version");
  CheckOk(batch_->Put(revisions_, format::RevisionKey(version.mod_revision, key),
                      version.tombstone ? "d" : ""),
          "writing the revision log");
}

int64_t RocksDbEngine::ObsoleteBytesThrough(int64_t revision) const {
  std::unique_ptr<rocksdb::Iterator> it = NewDbIterator(meta_family_);
  it->SeekForPrev(format::ObsoleteMarkKey(revision));
  CheckOk(it->status(), "reading the obsolete-bytes marks");
  // Marks at or below the compaction revision may not be deleted yet; they count no more.
  if (it->Valid()) {
    const std::optional<int64_t> mark = format::DecodeObsoleteMarkKey(View(it->key()));
    if (mark && *mark > meta_.compact_revision) {
      const std::optional<int64_t> bytes = format::DecodeInt64(View(it->value()));
      if (!bytes) FatalEngineError("corrupt obsolete-bytes mark", Printable(View(it->key())));
      return *bytes;
    }
  }
  return compaction_.obsolete_bytes_at_compaction;
}

int64_t RocksDbEngine::Compact(int64_t revision) {
  RAFTKV_KV_INVARIANT(BatchIsEmpty() && batch_obsolete_bytes_.empty());
  // A compaction at `revision` drops exactly the versions obsolete at or below it, and those at
  // or below the last compaction revision are dropped already: what it frees is the difference
  // of two marks. The versions themselves go in the steps of the following commits.
  const int64_t obsolete_bytes = ObsoleteBytesThrough(revision);
  const int64_t freed_bytes = obsolete_bytes - compaction_.obsolete_bytes_at_compaction;
  RAFTKV_KV_INVARIANT(freed_bytes >= 0);
  compaction_.obsolete_bytes_at_compaction = obsolete_bytes;
  compaction_.pending_revision = revision;
  compaction_changed_ = true;
  visible_compact_revision_ = revision;
  return freed_bytes;
}

void RocksDbEngine::WriteObsoleteMarks() {
  for (const auto& [revision, bytes] : batch_obsolete_bytes_) {
    obsolete_bytes_ += bytes;
    CheckOk(batch_->Put(meta_family_, format::ObsoleteMarkKey(revision),
                        format::EncodeInt64(obsolete_bytes_)),
            "writing an obsolete-bytes mark");
  }
  batch_obsolete_bytes_.clear();
}

void RocksDbEngine::CompactStep() {
  const int64_t target = compaction_.pending_revision;
  if (target == 0) return;
  // The committed state alone is read: the open batch holds this entry's writes, all above the
  // compaction revision, and the step's own deletes.
  std::unique_ptr<rocksdb::Iterator> log = NewDbIterator(revisions_);
  std::unique_ptr<rocksdb::Iterator> versions = NewDbIterator(versions_);
  const int limit = std::max(options_.compaction_records_per_commit, 1);
  int records = 0;
  int64_t mark_deleted = 0;
  for (log->Seek(compaction_.resume_key); log->Valid(); log->Next()) {
    std::optional<format::DecodedRevisionKey> write = format::DecodeRevisionKey(View(log->key()));
    if (!write) FatalEngineError("corrupt revision log key", Printable(View(log->key())));
    if (write->revision > target) break;
    if (records == limit) {
      compaction_.resume_key = std::string(View(log->key()));
      compaction_changed_ = true;
      return;
    }
    DropObsoleteVersionsAround(*versions, write->key, write->revision);
    CheckOk(batch_->Delete(revisions_, log->key()), "compacting the revision log");
    // A revision that obsoleted versions has a mark, and wrote at least one log record.
    if (write->revision != mark_deleted) {
      mark_deleted = write->revision;
      CheckOk(batch_->Delete(meta_family_, format::ObsoleteMarkKey(write->revision)),
              "compacting the obsolete-bytes marks");
    }
    ++records;
  }
  CheckOk(log->status(), "reading the revision log");
  compaction_.pending_revision = 0;
  compaction_.resume_key = format::RevisionKey(target + 1, "");
  compaction_changed_ = true;
}

void RocksDbEngine::DropObsoleteVersionsAround(rocksdb::Iterator& versions, std::string_view key,
                                               int64_t revision) {
  const int64_t target = compaction_.pending_revision;
  const std::string prefix = format::VersionKeyPrefix(key);
  const std::string written = format::VersionKey(key, revision);
  versions.Seek(written);
  CheckOk(versions.status(), "reading versions");
  if (!versions.Valid() || View(versions.key()) != written) {
    FatalEngineError("the revision log names a version that is missing",
                     fmt::format("{} at {}", Printable(key), revision));
  }
  bool obsolete = IsTombstoneRecord(versions);
  // The version before it became obsolete at `revision`, at or below the target. (When its own
  // log record was walked, the target may have been lower, or it was a live version kept by an
  // earlier compaction.) So a key's versions leave the disk oldest first, and the newest one at
  // or below the compaction revision stays until nothing older is left: reads at or above that
  // revision never land on a hole.
  versions.Next();
  CheckOk(versions.status(), "reading versions");
  if (versions.Valid() && HasPrefix(versions.key(), prefix)) {
    CheckOk(batch_->Delete(versions_, versions.key()), "compacting versions");
  }
  if (!obsolete) {
    // A live version is obsolete when a later version of the key is at or below the target.
    versions.Seek(format::VersionKey(key, target));
    CheckOk(versions.status(), "reading versions");
    obsolete = versions.Valid() && HasPrefix(versions.key(), prefix) &&
               DecodeKeyOrDie(versions).revision > revision;
  }
  if (obsolete) CheckOk(batch_->Delete(versions_, written), "compacting versions");
}

void RocksDbEngine::PutLease(int64_t id, int64_t ttl) {
  leases_[id] = ttl;
  CheckOk(batch_->Put(meta_family_, format::LeaseKey(id), format::EncodeInt64(ttl)),
          "writing a lease");
}

void RocksDbEngine::DeleteLease(int64_t id) {
  leases_.erase(id);
  CheckOk(batch_->Delete(meta_family_, format::LeaseKey(id)), "deleting a lease");
}

void RocksDbEngine::AttachKey(int64_t lease, std::string_view key) {
  CheckOk(batch_->Put(meta_family_, format::LeaseKeyKey(lease, key), ""), "attaching a key");
}

void RocksDbEngine::DetachKey(int64_t lease, std::string_view key) {
  CheckOk(batch_->Delete(meta_family_, format::LeaseKeyKey(lease, key)), "detaching a key");
}

void RocksDbEngine::PutAlarm(uint64_t member, etcdserverpb::AlarmType type) {
  alarms_.emplace(member, type);
  CheckOk(batch_->Put(meta_family_, format::AlarmKey(member, type), ""), "writing an alarm");
}

void RocksDbEngine::DeleteAlarm(uint64_t member, etcdserverpb::AlarmType type) {
  alarms_.erase({member, type});
  CheckOk(batch_->Delete(meta_family_, format::AlarmKey(member, type)), "deleting an alarm");
}

std::optional<std::string> RocksDbEngine::FindSession(uint64_t client) const {
  // A point read through the batch's index, so that a session written earlier in the same entry
  // is seen.
  std::string record;
  const rocksdb::Status status = batch_->GetFromBatchAndDB(
      db_.get(), rocksdb::ReadOptions(), meta_family_, format::SessionKey(client), &record);
  if (status.IsNotFound()) return std::nullopt;
  CheckOk(status, "reading a session");
  return record;
}

void RocksDbEngine::ForEachSession(SessionFn fn) const {
  const std::string prefix(1, format::kSessionPrefix);
  std::unique_ptr<rocksdb::Iterator> it = NewIterator(meta_family_);
  for (it->Seek(prefix); it->Valid() && HasPrefix(it->key(), prefix); it->Next()) {
    std::optional<uint64_t> client = format::DecodeSessionKey(View(it->key()));
    if (!client) FatalEngineError("corrupt session key", Printable(View(it->key())));
    fn(*client, View(it->value()));
  }
  CheckOk(it->status(), "reading the sessions");
}

void RocksDbEngine::PutSession(uint64_t client, std::string_view record) {
  CheckOk(batch_->Put(meta_family_, format::SessionKey(client), rocksdb::Slice(record)),
          "writing a session");
}

void RocksDbEngine::DeleteSession(uint64_t client) {
  CheckOk(batch_->Delete(meta_family_, format::SessionKey(client)), "deleting a session");
}

void RocksDbEngine::Clear() {
  // Key by key, in the open batch, so that the restore that follows replaces the state in one
  // atomic write. (WriteBatchWithIndex has no range deletion.)
  for (rocksdb::ColumnFamilyHandle* family : {versions_, revisions_, meta_family_}) {
    std::unique_ptr<rocksdb::Iterator> it = NewIterator(family);
    std::vector<std::string> doomed;
    for (it->SeekToFirst(); it->Valid(); it->Next()) doomed.emplace_back(View(it->key()));
    CheckOk(it->status(), "reading the state to clear");
    for (const std::string& key : doomed) CheckOk(batch_->Delete(family, key), "clearing");
  }
  leases_.clear();
  alarms_.clear();
  cluster_state_.clear();
  // The restore that follows writes a state without obsolete versions: no walk is pending, and
  // the obsolete bytes count from its own writes.
  compaction_ = format::CompactionRecord{};
  compaction_changed_ = true;
  obsolete_bytes_ = 0;
  batch_obsolete_bytes_.clear();
  visible_compact_revision_ = 0;
}

void RocksDbEngine::PutClusterState(std::string_view state) {
  cluster_state_ = state;
  CheckOk(batch_->Put(meta_family_, format::kClusterStateKey, rocksdb::Slice(state)),
          "writing the cluster state");
}

void RocksDbEngine::Commit(const EngineMeta& meta) {
  WriteObsoleteMarks();
  CompactStep();
  if (compaction_changed_) {
    CheckOk(batch_->Put(meta_family_, format::kCompactionKey,
                        format::EncodeCompactionRecord(compaction_)),
            "writing the compaction record");
    compaction_changed_ = false;
  }
  CheckOk(batch_->Put(meta_family_, format::kMetaKey, format::EncodeMeta(meta)),
          "writing the meta record");
  rocksdb::WriteOptions write_options;
  write_options.sync = options_.sync_each_commit && options_.write_ahead_log;
  write_options.disableWAL = !options_.write_ahead_log;
  CheckOk(db_->Write(write_options, batch_->GetWriteBatch()),
          fmt::format("committing applied entry {} to {}", meta.applied_index, dir_));
  batch_->Clear();
  meta_ = meta;
  visible_compact_revision_ = meta.compact_revision;
}

bool RocksDbEngine::ContinueCompaction() {
  RAFTKV_KV_INVARIANT(BatchIsEmpty() && batch_obsolete_bytes_.empty());
  if (!compaction_in_progress()) return false;
  Commit(meta_);
  return compaction_in_progress();
}

RocksDbEngine::StoredRecords RocksDbEngine::CountStoredRecords() const {
  StoredRecords counts;
  auto count = [&](rocksdb::ColumnFamilyHandle* family, std::string_view prefix) {
    int64_t records = 0;
    std::unique_ptr<rocksdb::Iterator> it = NewDbIterator(family);
    for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size()));
         it->Valid() && HasPrefix(it->key(), prefix); it->Next()) {
      ++records;
    }
    CheckOk(it->status(), "counting records");
    return records;
  };
  counts.versions = count(versions_, "");
  counts.revision_log = count(revisions_, "");
  counts.obsolete_marks = count(meta_family_, std::string(1, format::kObsoleteMarkPrefix));
  return counts;
}

absl::Status RocksDbEngine::Sync() {
  rocksdb::Status status;
  if (options_.write_ahead_log) {
    status = db_->SyncWAL();
  } else {
    rocksdb::FlushOptions flush;
    flush.wait = true;
    status = db_->Flush(flush, {default_, versions_, revisions_, meta_family_});
  }
  if (!status.ok()) {
    return absl::InternalError(
        fmt::format("cannot sync the kv engine's log in {}: {}", dir_, status.ToString()));
  }
  return absl::OkStatus();
}

absl::Status RocksDbEngine::Checkpoint(const std::string& dir) const {
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status status = rocksdb::Checkpoint::Create(db_.get(), &raw);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // log_size_for_flush 0: always flush, so the checkpoint holds every committed batch in table
  // files (the write-ahead log is not synced per commit; a flush does not depend on it).
  if (status.ok()) status = checkpoint->CreateCheckpoint(dir, /*log_size_for_flush=*/0);
  if (!status.ok()) {
    return absl::InternalError(fmt::format("cannot checkpoint the kv engine in {} into {}: {}",
                                           dir_, dir, status.ToString()));
  }
  return absl::OkStatus();
}

absl::Status RocksDbEngine::PrepareCheckpoint() const {
  rocksdb::FlushOptions flush;
  flush.wait = true;
  rocksdb::Status status = db_->Flush(flush, std::vector<rocksdb::ColumnFamilyHandle*>{
                                                 default_, versions_, revisions_, meta_family_});
  if (!status.ok()) {
    return absl::InternalError(
        fmt::format("cannot flush the kv engine in {}: {}", dir_, status.ToString()));
  }
  return absl::OkStatus();
}

}  // namespace raftkv::kv
