// RaftLog: the node's whole log as the protocol sees it — the entries in Storage followed by
// the unstable tail — plus the commit and apply cursors.
//
// Invariants: applied <= applying <= committed <= last index; first index - 1 <= applied.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "raft/unstable_log.h"
#include "raftkv/raft/logger.h"
#include "raftkv/raft/storage.h"
#include "raftkv/raftpb/raft.pb.h"

namespace raftkv::raft {

class RaftLog {
 public:
  // The log as found in storage: committed and applied start at the snapshot index.
  // max_applying_bytes bounds NextCommittedEntries.
  RaftLog(Storage* storage, Logger* logger, uint64_t max_applying_bytes);

  uint64_t committed() const { return committed_; }
  uint64_t applied() const { return applied_; }
  uint64_t applying() const { return applying_; }
  const UnstableLog& unstable() const { return unstable_; }

  uint64_t FirstIndex() const;
  uint64_t LastIndex() const;
  uint64_t LastTerm() const;

  // Term of entry i. CompactedError before FirstIndex()-1, UnavailableError after LastIndex().
  absl::StatusOr<uint64_t> Term(uint64_t i) const;
  // Term of i, or 0 when it is out of range (compacted or not yet present).
  uint64_t ZeroTermOnOutOfBounds(uint64_t i) const;
  bool MatchTerm(uint64_t i, uint64_t term) const;

  // §5.4.1: a log is at least as up to date as this one if its last term is higher, or equal
  // with a last index at least as large.
  bool IsUpToDate(uint64_t last_index, uint64_t term) const;

  // Handles the entries of an AppendEntries whose previous entry is (index, log_term) (§5.3).
  // Returns nothing if the previous entry does not match. Otherwise appends the entries that
  // are new, truncating this log only from the first entry that conflicts (a duplicated or
  // reordered message whose entries all match changes nothing), advances commit to
  // min(committed, index of the last new entry), and returns that last new index.
  std::optional<uint64_t> MaybeAppend(uint64_t index, uint64_t log_term, uint64_t committed,
                                      const std::vector<raftpb::Entry>& entries);

  // Appends entries at the tail (overwriting anything from entries.front().index()).
  // REQUIRES: entries.front().index() > committed. Returns the new last index.
  uint64_t Append(const std::vector<raftpb::Entry>& entries);

  // Index of the first entry whose term differs from this log's, or of the first entry past
  // this log's end; 0 when every entry already matches.
  uint64_t FindConflict(const std::vector<raftpb::Entry>& entries) const;

  // For fast backtracking: the largest (index, term) with index <= `index` and
  // term <= `term` in this log. Every entry after it has a term > `term`, so cannot match the
  // other log's entries up to `index` whose terms are all <= `term`.
  std::pair<uint64_t, uint64_t> FindConflictByTerm(uint64_t index, uint64_t term) const;

  // Unstable entries not yet handed out, and the snapshot likewise.
  std::vector<raftpb::Entry> NextUnstableEntries() const { return unstable_.NextEntries(); }
  bool HasNextUnstableEntries() const { return unstable_.HasNextEntries(); }
  const raftpb::Snapshot* NextUnstableSnapshot() const { return unstable_.NextSnapshot(); }
  bool HasNextOrInProgressSnapshot() const { return unstable_.snapshot().has_value(); }
  void AcceptUnstable() { unstable_.AcceptInProgress(); }

  // Committed entries not yet handed out for applying, at most max_applying_bytes (but at
  // least one). They may include unstable entries: a Ready persists its entries before the
  // application applies its committed entries. An error is Storage's: the committed entries
  // cannot be read back, and the node cannot go on without them (RawNode::Error).
  absl::StatusOr<std::vector<raftpb::Entry>> NextCommittedEntries() const;
  bool HasNextCommittedEntries() const;
  // Records that entries up to `index` were handed out for applying.
  void AcceptApplying(uint64_t index);
  // The application applied everything handed out up to `index`.
  void AppliedTo(uint64_t index);

  // Sets committed to max_index if it is larger and the entry there has `term` (the leader's
  // rule §5.4.2 is the caller's; this only checks the term). Returns true if it advanced.
  bool MaybeCommit(uint64_t max_index, uint64_t term);
  // REQUIRES: index <= LastIndex(). Never moves commit backwards.
  void CommitTo(uint64_t index);

  void StableTo(uint64_t index, uint64_t term) { unstable_.StableTo(index, term); }
  void StableSnapTo(uint64_t index) { unstable_.StableSnapTo(index); }

  // Entries from i on, at most max_size_bytes (at least one when any).
  absl::StatusOr<std::vector<raftpb::Entry>> Entries(uint64_t i, uint64_t max_size_bytes) const;
  // Entries in [lo, hi), at most max_size_bytes (at least one when lo < hi).
  absl::StatusOr<std::vector<raftpb::Entry>> Slice(uint64_t lo, uint64_t hi,
                                                   uint64_t max_size_bytes) const;
  // The entire log from FirstIndex(); for tests and debugging.
  std::vector<raftpb::Entry> AllEntries() const;

  // The unstable snapshot if there is one, else storage's.
  absl::StatusOr<raftpb::Snapshot> Snapshot() const;

  // Replaces the log with a snapshot: committed moves to its index.
  void Restore(const raftpb::Snapshot& snapshot);

  std::string String() const;

 private:
  absl::Status CheckOutOfBounds(uint64_t lo, uint64_t hi) const;

  Storage* storage_;
  Logger* logger_;
  UnstableLog unstable_;
  uint64_t committed_ = 0;
  // Highest index handed out to the application for applying.
  uint64_t applying_ = 0;
  // Highest index the application reported applied.
  uint64_t applied_ = 0;
  uint64_t max_applying_bytes_;
};

}  // namespace raftkv::raft
