// UnstableLog: the tail of the raft log (and possibly a snapshot) that has not yet been
// written to Storage.
//
// Entries arrive here when appended by the leader or received from it, are handed to the
// application in a Ready, and leave when the application reports them persisted (StableTo at
// Advance). "In progress" marks what was already handed out, so it is not handed out twice.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "raftkv/raftpb/raft.pb.h"

namespace raftkv::raft {

class UnstableLog {
 public:
  // offset: the index the first unstable entry will have (storage's last index + 1).
  explicit UnstableLog(uint64_t offset) : offset_(offset), offset_in_progress_(offset) {}

  // Index of the first entry when only a snapshot is known (snapshot index + 1).
  std::optional<uint64_t> MaybeFirstIndex() const;
  std::optional<uint64_t> MaybeLastIndex() const;
  std::optional<uint64_t> MaybeTerm(uint64_t i) const;

  uint64_t offset() const { return offset_; }
  const std::vector<raftpb::Entry>& entries() const { return entries_; }
  const std::optional<raftpb::Snapshot>& snapshot() const { return snapshot_; }

  // Entries not yet handed out for persistence.
  std::vector<raftpb::Entry> NextEntries() const;
  bool HasNextEntries() const { return offset_in_progress_ < offset_ + entries_.size(); }
  // The snapshot, if not yet handed out.
  const raftpb::Snapshot* NextSnapshot() const;

  // Marks everything currently returned by NextEntries/NextSnapshot as handed out.
  void AcceptInProgress();

  // Entries up to (i, t) were persisted. Ignored when the entry at i no longer has term t:
  // it was overwritten after being handed out, and the replacement is still unstable.
  void StableTo(uint64_t i, uint64_t t);
  // The snapshot at index i was persisted.
  void StableSnapTo(uint64_t i);

  // Replaces everything with a snapshot (from the leader).
  void Restore(const raftpb::Snapshot& snapshot);

  // Appends entries, first dropping any existing entry at or after entries.front().index()
  // (the caller has established that they conflict).
  void TruncateAndAppend(const std::vector<raftpb::Entry>& entries);

  // Entries in [lo, hi). REQUIRES: offset() <= lo <= hi <= last index + 1.
  std::vector<raftpb::Entry> Slice(uint64_t lo, uint64_t hi) const;

 private:
  std::optional<raftpb::Snapshot> snapshot_;
  std::vector<raftpb::Entry> entries_;
  // Index of entries_[0].
  uint64_t offset_;
  bool snapshot_in_progress_ = false;
  // entries_ below this index were handed out for persistence.
  uint64_t offset_in_progress_;
};

}  // namespace raftkv::raft
