// An in-memory Storage, for tests, the simulator and embedders that persist elsewhere.
//
// Not thread-safe: call it from the thread that drives the RawNode.
#pragma once

#include <vector>

#include "raftkv/raft/storage.h"

namespace raftkv::raft {

class MemoryStorage final : public Storage {
 public:
  MemoryStorage();

  absl::Status InitialState(raftpb::HardState* hard_state,
                            raftpb::ConfState* conf_state) const override;
  absl::StatusOr<std::vector<raftpb::Entry>> Entries(uint64_t lo, uint64_t hi,
                                                     uint64_t max_size_bytes) const override;
  absl::StatusOr<uint64_t> Term(uint64_t i) const override;
  uint64_t LastIndex() const override;
  uint64_t FirstIndex() const override;
  absl::StatusOr<raftpb::Snapshot> Snapshot() const override;

  // Gives a brand-new, empty log its initial configuration (the founding members of a
  // cluster). FailedPrecondition if the log is not empty.
  absl::Status Bootstrap(const raftpb::ConfState& conf_state);

  void SetHardState(const raftpb::HardState& hard_state);

  // Appends entries, truncating any existing suffix that they overwrite. Entries already
  // compacted are ignored. REQUIRES: no gap between the log and entries.front().
  absl::Status Append(const std::vector<raftpb::Entry>& entries);

  // Replaces the whole log with a snapshot. SnapshotOutOfDateError if it is older than the
  // current one.
  absl::Status ApplySnapshot(const raftpb::Snapshot& snapshot);

  // Makes a snapshot of the state at index i (REQUIRES: i <= LastIndex()), with the given
  // configuration and application data, and returns it. Does not compact.
  absl::StatusOr<raftpb::Snapshot> CreateSnapshot(uint64_t i, const raftpb::ConfState* conf_state,
                                                  std::string data);

  // Discards entries before compact_index. CompactedError if already compacted that far.
  absl::Status Compact(uint64_t compact_index);

 private:
  raftpb::HardState hard_state_;
  raftpb::Snapshot snapshot_;
  // entries_[0] is a dummy holding the index and term of the snapshot (the last compacted
  // entry); real entries follow it contiguously.
  std::vector<raftpb::Entry> entries_;
};

}  // namespace raftkv::raft
