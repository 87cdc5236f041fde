// An Engine on RocksDB: the store's whole state on disk, opened on a directory, with no index
// in memory beyond the leases and alarms (a few records) and one open write batch.
//
// The layout is in kv/rocksdb_format.h: versions keyed by (key, newest revision first), a
// revision log, and a meta column family holding the applied index, revisions, size counters,
// the log clock, leases, their keys, alarms, client sessions and the cluster state. Every
// Commit writes the entry's batch and the meta record in one rocksdb::WriteBatch, so a reopened
// engine holds the state after some whole entry and its applied index names that entry: a
// restart replays the raft log from the entry after it, never the state from the start.
//
// Durability rule. Commit writes through RocksDB's write-ahead log without an fsync (a killed
// process loses nothing; a machine crash or power loss may lose the last committed batches, and
// the reopened engine's applied index goes back to the last durable one). So the raft log must
// keep every entry above the engine's durable applied index: before compacting the raft log up
// to index i (for instance when taking a raft snapshot at i), the caller calls Sync() after
// entry i was applied, and compacts only if it returned OK. Open with sync_each_commit for an
// fsync per Commit instead.
//
// Reads see the open batch (RocksDB's WriteBatchWithIndex).
//
// Compaction in steps. Compact(revision) does one lookup, not a scan: it records the revision
// as pending in the compaction record and returns the bytes the compaction frees, computed from
// the obsolete-bytes marks (kv/rocksdb_format.h) that every Commit writes for the revisions it
// obsoleted versions at. Every Commit then drops at most Options::compaction_records_per_commit
// revision log records' worth of obsolete versions, in its own batch, and stores where it stopped
// in the compaction record: a reopened engine resumes exactly there. So applying an entry never
// holds up on a large compaction, and no batch grows with one. Until the walk is done, versions
// that the compaction dropped may still be on disk; every read hides them (ForEachKeyHistory and
// History by the compaction revision, Read and Scan because they only read at or above it), so
// nothing replicated (reads, HashKV, snapshots, Store::size_bytes) depends on how far the walk
// got. The walk is driven by applied entries, on the apply thread: no thread of its own, nothing
// to synchronize, and the same steps on every replay. A compaction applied while the walk of an
// earlier one is still going takes it over: the walk goes on from where it is towards the later
// revision. An idle member (no entries applied) leaves the rest on disk until the next entry.
//
// Errors: Open returns a status; a failed read or write afterwards stops the process
// (kv/engine.h, FatalEngineError).
//
// Thread-safety: as Engine.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "kv/engine.h"
#include "kv/rocksdb_format.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class Env;
class FileSystem;
class Iterator;
class WriteBatchWithIndex;
}  // namespace rocksdb

namespace raftkv::kv {

class RocksDbEngine final : public Engine {
 public:
  struct Options {
    // fsync RocksDB's log on every Commit (else only on Sync()).
    bool sync_each_commit = false;
    // Write RocksDB's own log. Without it the raft log is the only log: a commit lives in a
    // memtable until a flush, a killed process reopens at the last flushed entry (the raft log
    // still holds the later ones), and Sync() flushes every column family at once instead of
    // syncing the log.
    bool write_ahead_log = true;
    // The block cache shared by the column families: uncompressed data blocks, and the index
    // and filter blocks too, so that it bounds what the engine's reads keep in memory.
    size_t block_cache_bytes = size_t{256} << 20;
    // The physical work of compaction one Commit does at most: revision log records walked (each
    // deletes its record, up to two versions and an obsolete-bytes mark).
    int compaction_records_per_commit = 1000;
    // Without RocksDB's own log, flush the memtables when the engine closes, so that a clean
    // shutdown keeps every committed entry. (With the log nothing lives in memory only, and
    // RocksDB flushes nothing at close either way.) Tests turn it off to close like a crash:
    // the entries committed since the last Sync are dropped with the memtables.
    bool flush_memtables_at_close = true;
    // For tests: the file system RocksDB's files go through, e.g. one that can lose power
    // (kv/power_cut_fs.h). Null: the local disk, through RocksDB's default environment.
    std::shared_ptr<rocksdb::FileSystem> file_system;
  };

  // Opens the engine in `dir`, creating it when missing, and reads its meta, leases, alarms and
  // compaction record. A directory written before the compaction record existed gets its
  // obsolete-bytes marks here, from one pass over its revision log.
  static absl::StatusOr<std::unique_ptr<RocksDbEngine>> Open(const std::string& dir,
                                                             Options options);
  static absl::StatusOr<std::unique_ptr<RocksDbEngine>> Open(const std::string& dir) {
    return Open(dir, Options{});
  }
  // Closes the database; an open batch is dropped (it was never committed). Without the
  // write-ahead log the memtables are flushed first, unless Options::flush_memtables_at_close is
  // off.
  ~RocksDbEngine() override;

  EngineMeta meta() const override { return meta_; }
  bool Read(std::string_view key, int64_t revision, ReadFn fn) const override;
  void Scan(const KeyRange& range, int64_t revision, ScanFn fn) const override;
  void History(const KeyRange& range, int64_t from, int64_t through, EventFn fn) const override;
  void ForEachKeyHistory(KeyHistoryFn fn) const override;
  std::optional<int64_t> LeaseTtl(int64_t id) const override;
  std::vector<std::pair<int64_t, int64_t>> Leases() const override;
  std::vector<std::string> LeaseKeys(int64_t id) const override;
  size_t lease_count() const override { return leases_.size(); }
  const AlarmSet& alarms() const override { return alarms_; }
  const std::string& cluster_state() const override { return cluster_state_; }
  std::optional<std::string> FindSession(uint64_t client) const override;
  void ForEachSession(SessionFn fn) const override;

  void AppendVersion(std::string_view key, Version version,
                     std::optional<size_t> live_value_bytes) override;
  int64_t Compact(int64_t revision) override;
  void PutLease(int64_t id, int64_t ttl) override;
  void DeleteLease(int64_t id) override;
  void AttachKey(int64_t lease, std::string_view key) override;
  void DetachKey(int64_t lease, std::string_view key) override;
  void PutAlarm(uint64_t member, etcdserverpb::AlarmType type) override;
  void DeleteAlarm(uint64_t member, etcdserverpb::AlarmType type) override;
  void PutClusterState(std::string_view state) override;
  void PutSession(uint64_t client, std::string_view record) override;
  void DeleteSession(uint64_t client) override;
  void Clear() override;
  void Commit(const EngineMeta& meta) override;
  // Fsyncs RocksDB's write-ahead log: every batch committed before the call survives a crash of
  // the machine.
  absl::Status Sync() override;

  bool can_checkpoint() const override { return true; }
  // A RocksDB checkpoint (rocksdb/utilities/checkpoint.h): the table files hard-linked when
  // `dir` is on the same file system, the manifest and options copied, the memtables flushed
  // first so that the checkpoint needs no log replay. Each Commit is one RocksDB write batch, so
  // any checkpoint holds whole entries; called between entries, it holds exactly meta().
  absl::Status Checkpoint(const std::string& dir) const override;
  // Flushes the memtables, so that the flush inside Checkpoint is short. RocksDB allows it
  // concurrently with Commit.
  absl::Status PrepareCheckpoint() const override;

  // Whether versions that a compaction dropped may still be on disk (the walk is not done).
  bool compaction_in_progress() const override { return compaction_.pending_revision != 0; }
  // A Commit of the current meta with nothing else in it: one step of the walk.
  bool ContinueCompaction() override;
  // What the column families hold, counted by a full scan of the committed state: what
  // compaction left on disk, which no read shows. For tests and diagnostics.
  struct StoredRecords {
    int64_t versions = 0;
    int64_t revision_log = 0;
    int64_t obsolete_marks = 0;
  };
  StoredRecords CountStoredRecords() const;

 private:
  RocksDbEngine() = default;
  // How an iterator will move: across keys in order (scans), or only among the versions of the
  // key it was first sought to (a point read, which may then skip files by their filters).
  enum class Extent { kOrdered, kOneKey };
  // An iterator over `family` that sees the open batch (when it has writes) over the database.
  std::unique_ptr<rocksdb::Iterator> NewIterator(rocksdb::ColumnFamilyHandle* family,
                                                 Extent extent = Extent::kOrdered) const;
  // An iterator over the database alone.
  std::unique_ptr<rocksdb::Iterator> NewDbIterator(rocksdb::ColumnFamilyHandle* family,
                                                   Extent extent = Extent::kOrdered) const;
  bool BatchIsEmpty() const;

  // Compaction (see the top of this file).
  // Reads the compaction record, or builds the marks of a directory written without them.
  absl::Status LoadCompaction();
  absl::Status BuildObsoleteMarks();
  // The obsolete bytes through `revision` (> the compaction revision).
  int64_t ObsoleteBytesThrough(int64_t revision) const;
  // What appending `version` to `key` makes obsolete: the key's live version (of
  // `live_value_bytes`, see AppendVersion), and a tombstone.
  static int64_t BytesObsoletedBy(std::string_view key, const Version& version,
                                  std::optional<size_t> live_value_bytes);
  // Writes into the batch the marks of the revisions this batch obsoleted versions at.
  void WriteObsoleteMarks();
  // Drops obsolete versions for at most compaction_records_per_commit revision log records.
  void CompactStep();
  // Drops what the write of `key` at `revision` leaves obsolete by the pending compaction.
  void DropObsoleteVersionsAround(rocksdb::Iterator& versions, std::string_view key,
                                  int64_t revision);

  Options options_;
  std::string dir_;
  // The environment over Options::file_system, when one was given; destroyed after db_.
  std::unique_ptr<rocksdb::Env> env_;
  std::unique_ptr<rocksdb::DB> db_;
  // Column family handles, destroyed before db_.
  rocksdb::ColumnFamilyHandle* default_ = nullptr;
  rocksdb::ColumnFamilyHandle* versions_ = nullptr;
  rocksdb::ColumnFamilyHandle* revisions_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_family_ = nullptr;
  std::unique_ptr<rocksdb::WriteBatchWithIndex> batch_;
  // Committed meta.
  EngineMeta meta_;
  // Leases (id -> TTL) and alarms, including the open batch's changes; also in `meta_family_`.
  std::map<int64_t, int64_t> leases_;
  AlarmSet alarms_;
  // The cluster state, including the open batch's change; also in `meta_family_`.
  std::string cluster_state_;
  // The compaction revision reads hide older history by, including the open batch's Compact.
  int64_t visible_compact_revision_ = 0;
  // The compaction record, including the open batch's changes; Commit writes it when changed.
  rocksdb_format::CompactionRecord compaction_;
  bool compaction_changed_ = false;
  // The obsolete bytes through the newest committed revision, and what the open batch obsoletes
  // at each revision it writes (one revision, except in a restore).
  int64_t obsolete_bytes_ = 0;
  std::map<int64_t, int64_t> batch_obsolete_bytes_;
};

}  // namespace raftkv::kv
