// The read-only view of the durable raft log that the consensus core consults.
//
// The core never writes to Storage: entries, hard state and snapshots to persist come out in
// a Ready, and the application writes them (to MemoryStorage in tests, to the WAL in the
// server) before calling RawNode::Advance. Storage implementations are called only from the
// thread that drives the RawNode, but the application may write to them from the same thread.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "raftkv/raftpb/raft.pb.h"

namespace raftkv::raft {

// Storage errors. They are absl::Status values with distinct codes so that callers can test
// for them with the Is* predicates below.
absl::Status CompactedError();                       // index is before the first available entry
absl::Status UnavailableError();                     // index is after the last entry
absl::Status SnapshotOutOfDateError();               // a newer snapshot is already applied
absl::Status SnapshotTemporarilyUnavailableError();  // try again later
bool IsCompacted(const absl::Status& s);
bool IsUnavailable(const absl::Status& s);
bool IsSnapshotOutOfDate(const absl::Status& s);
bool IsSnapshotTemporarilyUnavailable(const absl::Status& s);

// No limit on the size of a batch of entries.
inline constexpr uint64_t kNoLimit = UINT64_MAX;

class Storage {
 public:
  virtual ~Storage() = default;

  // The persisted hard state and configuration, read once when a RawNode is created.
  virtual absl::Status InitialState(raftpb::HardState* hard_state,
                                    raftpb::ConfState* conf_state) const = 0;

  // Entries in [lo, hi), at most max_size_bytes in total but always at least one entry when
  // any is available. CompactedError if lo is before FirstIndex().
  virtual absl::StatusOr<std::vector<raftpb::Entry>> Entries(uint64_t lo, uint64_t hi,
                                                             uint64_t max_size_bytes) const = 0;

  // Term of entry i, for i in [FirstIndex()-1, LastIndex()]. The term of FirstIndex()-1 is
  // kept (it is the snapshot's term) so the log-matching check works at the boundary.
  virtual absl::StatusOr<uint64_t> Term(uint64_t i) const = 0;

  virtual uint64_t LastIndex() const = 0;

  // Index of the first entry that may be read; older ones were compacted into the snapshot.
  virtual uint64_t FirstIndex() const = 0;

  // The most recent snapshot. SnapshotTemporarilyUnavailableError if it is being produced.
  virtual absl::StatusOr<raftpb::Snapshot> Snapshot() const = 0;
};

}  // namespace raftkv::raft
