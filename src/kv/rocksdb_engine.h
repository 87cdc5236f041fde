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
// Reads see the open batch (RocksDB's WriteBatchWithIndex). Compaction of old revisions runs
// inside the Commit of the compaction's entry; it touches the keys written since the last
// compaction (found in the revision log), not the whole key space.
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

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
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
  };

  // Opens the engine in `dir`, creating it when missing, and reads its meta, leases and alarms.
  static absl::StatusOr<std::unique_ptr<RocksDbEngine>> Open(const std::string& dir,
                                                             Options options);
  static absl::StatusOr<std::unique_ptr<RocksDbEngine>> Open(const std::string& dir) {
    return Open(dir, Options{});
  }
  // Closes the database; an open batch is dropped (it was never committed).
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

  void AppendVersion(std::string_view key, Version version) override;
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

  Options options_;
  std::string dir_;
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
};

}  // namespace raftkv::kv
