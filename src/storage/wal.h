// Wal: the segmented write-ahead log of one raft node (format in wal_format.h).
//
// Opening a directory takes its lock, deletes leftovers of an interrupted segment roll or
// snapshot (*.tmp), replays every segment and returns what the log holds (hard state, newest
// snapshot marker, and the index, term and on-disk location of every live entry). A torn tail
// of the newest segment is cut off, with a log line saying how many bytes were dropped; any
// other damage is DataLoss naming the file and offset (see segment_scan.h).
//
// Writing: a WalBatch is encoded in memory and written with one write call, followed by one
// fdatasync when asked; several batches can go out with one gathered write call (WriteGroup),
// which is how WalCommitter commits a group. A write issued after an fdatasync of this Wal
// returned starts with a sync point recording how far the segment is durable (wal_format.h),
// which lets recovery tell damage to synced records from a torn tail. When the active segment would
// overflow it is trimmed, fsynced and a new one is started: created as <name>.tmp, preallocated to
// the segment size, its header record written and fsynced, renamed, and the directory fsynced. A
// crash during a roll thus leaves either a .tmp file (deleted on open) or a complete, empty
// segment.
//
// Errors: any failed write, allocation or sync makes the Wal permanently failed and every later
// write returns the first error. An fsync is never retried: after a failed fsync the kernel may
// have dropped the dirty pages, so a later "successful" fsync would prove nothing. Reopening
// the directory (after fixing the cause) recovers everything that was acknowledged.
//
// Thread-compatible: one thread at a time (WalCommitter serializes concurrent writers). The one
// exception is the File returned by active_file(), which another thread may DataSync while
// this one writes (see WalCommitter).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "io/env.h"
#include "raftkv/raft/logger.h"
#include "raftkv/raftpb/raft.pb.h"
#include "storage/wal_format.h"

namespace raftkv::storage {

struct WalOptions {
  uint64_t segment_bytes = 64ull << 20;
  // Reserve each segment's space with fallocate when it is created.
  bool preallocate = true;
  raft::Logger* logger = nullptr;  // for recovery messages; may be null
};

// Where a record lives.
struct RecordLocation {
  uint64_t seq = 0;
  uint64_t offset = 0;
  uint32_t size_bytes = 0;  // whole framed record
};

// What replay found for one live entry; its index is implied by its position.
struct EntryMeta {
  uint64_t term = 0;
  RecordLocation location;
};

struct WalRecovery {
  raftpb::HardState hard_state;
  std::optional<SnapshotMarker> snapshot;  // the newest committed snapshot
  uint64_t first_index = 1;                // index of entries[0]; entries follow contiguously
  std::vector<EntryMeta> entries;
  uint64_t dropped_tail_bytes = 0;  // torn tail cut off during this open
  bool fresh = false;               // the directory held no WAL
};

// Records written together.
class WalBatch {
 public:
  // Entries must be contiguous within a batch.
  void AddEntry(const raftpb::Entry& entry);
  void SetHardState(const raftpb::HardState& hard_state);
  void AddSnapshotMarker(const SnapshotMarker& marker, bool replace);

  bool empty() const { return data_.empty(); }
  uint64_t size_bytes() const { return data_.size(); }
  size_t entry_count() const { return entries_.size(); }

 private:
  friend class Wal;
  struct EntryInfo {
    uint64_t index;
    uint64_t term;
    uint64_t offset;  // within data_
    uint32_t size_bytes;
  };
  // Effects on the state that segment headers record, in write order.
  struct Effect {
    enum Kind { kEntry, kHardState, kSnapshot } kind;
    uint64_t a = 0, b = 0, c = 0;  // index/term; term/vote/commit; index/term/replace
  };

  std::string data_;
  std::vector<EntryInfo> entries_;
  std::vector<Effect> effects_;
};

class Wal {
 public:
  static absl::StatusOr<std::unique_ptr<Wal>> Open(io::Env* env, const std::string& dir,
                                                   const WalOptions& options,
                                                   WalRecovery* recovery);
  ~Wal();

  // Writes the batch with a single write call and, if `sync`, one fdatasync. `locations`, when
  // given, receives where each entry of the batch landed.
  absl::Status Write(const WalBatch& batch, bool sync,
                     std::vector<RecordLocation>* locations = nullptr);
  // Writes several batches back to back, in order, with a single gathered write call (no copy
  // into one buffer) and, if `sync`, one fdatasync: WalCommitter's group commit.
  absl::Status WriteGroup(std::span<const WalBatch* const> batches, bool sync);
  // fdatasync of the active segment (for batches written without sync).
  absl::Status Sync();

  // Deletes segments all of whose entries have index <= `index` (REQUIRES: a snapshot at or
  // after `index` is durable). The active segment is never deleted.
  absl::Status RemoveSegmentsUpTo(uint64_t index);

  // Reads back the payload of a record written earlier; DataLoss if it no longer checks out.
  absl::StatusOr<std::string> ReadPayload(const RecordLocation& location) const;
  // Reads back the payloads of the adjacent records filling [offset, offset + bytes) of
  // segment `seq`, with one read.
  absl::StatusOr<std::vector<std::string>> ReadPayloads(uint64_t seq, uint64_t offset,
                                                        uint64_t bytes) const;

  // The active segment, for a caller that syncs it from another thread while the writing
  // thread goes on (WalCommitter's pipeline). Bytes written before this call are durable once
  // a DataSync of the returned file, started after this call, returns OK — or once a later
  // segment roll has synced the file. Shared so that a roll cannot close it under that sync.
  std::shared_ptr<io::File> active_file() const { return active_; }
  // Makes the Wal permanently failed with `s` (for a sync done outside it, see active_file()).
  void MarkFailed(const absl::Status& s) { (void)Fail(s); }

  // The first error of the write path, or OK.
  absl::Status health() const { return failed_; }
  uint64_t sync_count() const { return syncs_; }
  std::vector<uint64_t> segment_seqs() const;
  const std::string& dir() const { return dir_; }

 private:
  struct Segment {
    uint64_t seq;
    uint64_t last_index_before;  // the header's last_index
  };

  Wal(io::Env* env, std::string dir, WalOptions options);
  absl::Status Recover(WalRecovery* recovery);
  absl::Status CreateSegment(uint64_t seq);
  absl::Status Roll();
  absl::Status Fail(absl::Status s);
  absl::Status WriteBatches(std::span<const WalBatch* const> batches, bool sync,
                            std::vector<RecordLocation>* locations);
  void ApplyEffects(const WalBatch& batch);
  void Log(raft::LogLevel level, const std::string& message) const;
  std::string SegmentPath(uint64_t seq) const;

  io::Env* const env_;
  const std::string dir_;
  const WalOptions options_;
  std::unique_ptr<io::FileLock> lock_;
  std::vector<Segment> segments_;  // oldest first; back() is active
  std::shared_ptr<io::File> active_;
  uint64_t offset_ = 0;      // next write position in the active segment
  uint64_t header_end_ = 0;  // offset just past the active segment's header record
  // The active segment is known durable up to here (a sync of it returned, or recovery found
  // it so); only this Wal's own syncs count, so a sync done outside it (WalCommitter) is not
  // known here — which only makes the sync points more conservative.
  uint64_t durable_end_ = 0;
  // The largest durable offset a sync point in the active segment records (the header's end
  // when none does): a write needs a sync point only when durable_end_ has moved past it.
  uint64_t recorded_durable_end_ = 0;
  SegmentHeader state_;  // what the next segment header will record
  absl::Status failed_;
  uint64_t syncs_ = 0;
  mutable std::map<uint64_t, std::unique_ptr<io::File>> readers_;
};

}  // namespace raftkv::storage
