// DurableStorage: raft::Storage over the WAL and snapshot files of one data directory.
//
// Reads follow the raft::Storage contract exactly as MemoryStorage does (same errors for the
// same situations). Recent entries are served from an in-memory tail of bounded size; older
// ones are read back from their WAL segment (each entry's location is kept in memory).
//
// Writes, in the order a Ready asks for them:
//   if (ready.snapshot)   storage.ApplySnapshot(*ready.snapshot);
//   storage.Save(ready.hard_state, ready.entries, ready.must_sync);
// and, from the application once it has applied up to some index:
//   storage.CreateSnapshot(index, &conf_state, data);  storage.Compact(index);
// Save writes all the entries and the hard state with one write and (if must_sync) one
// fdatasync. ApplySnapshot and CreateSnapshot are durable when they return: the snapshot file
// goes to a temporary name, is fsynced, renamed and the directory fsynced, and then a marker
// record naming it is synced to the WAL; the marker is the commit point.
//
// Recovery (Open) restores exactly what was synced: hard state, newest committed snapshot (its
// conf state is what InitialState reports) and the entries after it. After a restart
// FirstIndex() is the snapshot index + 1 even if the log had been compacted less far.
//
// Errors: Open returns DataLoss (naming file and offset) for damage other than a torn tail,
// FailedPrecondition when another process holds the directory. Any error while writing (EIO,
// ENOSPC, a failed fsync) fails the storage for good: every later write returns that error
// and the process should stop and reopen the directory; nothing acknowledged is lost.
//
// Not thread-safe: call it from the thread that drives the RawNode.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/env.h"
#include "raftkv/raft/storage.h"
#include "storage/wal.h"

namespace raftkv::storage {

struct DurableStorageOptions {
  WalOptions wal;
  // Upper bound on the serialized bytes of recent entries kept in memory.
  uint64_t entry_cache_bytes = 64ull << 20;
};

class DurableStorage final : public raft::Storage {
 public:
  // Opens (creating if needed) the data directory `dir` and recovers it. An empty directory
  // gives an empty log; call Bootstrap to give it the founding configuration.
  static absl::StatusOr<std::unique_ptr<DurableStorage>> Open(io::Env* env, const std::string& dir,
                                                              const DurableStorageOptions& options);
  ~DurableStorage() override;

  // raft::Storage
  absl::Status InitialState(raftpb::HardState* hard_state,
                            raftpb::ConfState* conf_state) const override;
  absl::StatusOr<std::vector<raftpb::Entry>> Entries(uint64_t lo, uint64_t hi,
                                                     uint64_t max_size_bytes) const override;
  absl::StatusOr<uint64_t> Term(uint64_t i) const override;
  uint64_t LastIndex() const override;
  uint64_t FirstIndex() const override;
  absl::StatusOr<raftpb::Snapshot> Snapshot() const override;

  // Gives a brand-new log its initial configuration, durably (as a snapshot at index 0).
  // FailedPrecondition if the log is not empty.
  absl::Status Bootstrap(const raftpb::ConfState& conf_state);

  // Appends `entries` (truncating the suffix they overwrite; already compacted ones are
  // ignored) and then records `hard_state`, with one write and, if must_sync, one fdatasync.
  // InvalidArgument if the entries leave a gap after LastIndex().
  absl::Status Save(const std::optional<raftpb::HardState>& hard_state,
                    const std::vector<raftpb::Entry>& entries, bool must_sync);

  // Replaces the whole log with a snapshot received from the leader. SnapshotOutOfDate if it
  // is not newer than the current one.
  absl::Status ApplySnapshot(const raftpb::Snapshot& snapshot);

  // Records a snapshot of the state machine at index i (REQUIRES i <= LastIndex()), with the
  // given configuration (or the current one when null) and data; does not compact.
  absl::StatusOr<raftpb::Snapshot> CreateSnapshot(uint64_t i, const raftpb::ConfState* conf_state,
                                                  std::string data);

  // Discards entries up to and including compact_index (which stays readable through Term)
  // and deletes the WAL segments that only held such entries. CompactedError if already
  // compacted that far; FailedPrecondition past the newest snapshot, whose index bounds what
  // may be forgotten.
  absl::Status Compact(uint64_t compact_index);

  // OK, or the error that failed the storage.
  absl::Status health() const;
  const raftpb::HardState& hard_state() const { return hard_state_; }
  // Torn-tail bytes cut off when this instance opened the directory.
  uint64_t dropped_tail_bytes() const { return dropped_tail_bytes_; }
  const Wal& wal() const { return *wal_; }

 private:
  DurableStorage(io::Env* env, std::string dir, const DurableStorageOptions& options);
  absl::Status Recover(const WalRecovery& recovery);
  absl::Status WriteSnapshot(const raftpb::Snapshot& snapshot, bool replace);
  void PruneSnapshotFiles();
  absl::Status Fail(absl::Status s);
  absl::StatusOr<raftpb::Entry> ReadEntry(uint64_t i) const;
  void CacheAppend(const raftpb::Entry& e);
  void Log(raft::LogLevel level, const std::string& message) const;

  io::Env* const env_;
  const std::string dir_;
  const DurableStorageOptions options_;
  std::unique_ptr<Wal> wal_;
  absl::Status failed_;

  raftpb::HardState hard_state_;
  raftpb::SnapshotMetadata snapshot_meta_;
  bool has_snapshot_ = false;  // a snapshot file backs snapshot_meta_
  uint64_t dropped_tail_bytes_ = 0;

  // The log: offset_ is the index of the last compacted entry (the snapshot's, or the compact
  // index), whose term is offset_term_; index_[k] describes entry offset_ + 1 + k.
  uint64_t offset_ = 0;
  uint64_t offset_term_ = 0;
  std::deque<EntryMeta> index_;

  // The newest entries, cache_first_ .. LastIndex(), at most options_.entry_cache_bytes.
  std::deque<raftpb::Entry> cache_;
  uint64_t cache_first_ = 1;
  uint64_t cache_bytes_ = 0;
};

}  // namespace raftkv::storage
