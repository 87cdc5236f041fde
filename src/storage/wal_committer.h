// WalCommitter: pipelined group commit for many threads writing to one Wal.
//
// Each caller hands in a batch and blocks until it is durable. Batches queue up in arrival
// order; the waiting callers share two jobs, each held by at most one of them at a time:
//   - the writer takes every queued batch (up to max_group_bytes) and writes them with one
//     gathered write call straight from the callers' buffers (Wal::WriteGroup), without
//     syncing;
//   - the syncer fdatasyncs the active segment, covering everything written before it started,
//     and then acknowledges those batches.
// The two run at the same time: while group n is being fsynced, group n+1 accumulates and is
// written, so the next fsync can start as soon as this one returns and carries everything that
// arrived meanwhile. fsyncs per second therefore stay at what the disk can do (one at a time),
// while the bytes per fsync grow with the load. No lock is held across a write or an fsync.
//
// Safety:
//   - A batch is acknowledged only after an fsync that started after its write had returned
//     has returned OK (or after a segment roll, which syncs the old segment before the new one
//     takes writes, see Wal). Acknowledgements follow arrival order: a prefix is durable.
//   - Any failed write or fsync fails the committer and its Wal permanently: every caller not
//     yet acknowledged, and every later one, gets that error. An fsync is never retried — after
//     a failed fsync the kernel may have dropped the dirty pages, so a later "successful" one on
//     the same file would prove nothing.
//
// Batches are written in arrival order; the Wal does not look inside them, so giving entries
// their indexes (and keeping them contiguous in arrival order) is the caller's business.
//
// Thread-safe. The Wal must outlive the committer and must not be used directly meanwhile.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "storage/wal.h"

namespace raftkv::storage {

class WalCommitter {
 public:
  explicit WalCommitter(Wal* wal, uint64_t max_group_bytes = 8ull << 20)
      : wal_(wal), max_group_bytes_(max_group_bytes) {}

  // Writes `batch` durably, together with whatever other callers submit at the same time.
  // Returns once it is durable, or with the committer's first error.
  absl::Status Commit(const WalBatch& batch) ABSL_LOCKS_EXCLUDED(mu_);

  // Write calls (groups) and fdatasyncs issued so far. Segment rolls sync too; those are
  // counted by Wal::sync_count().
  uint64_t writes() const ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t syncs() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Takes the writer job: writes the queued batches, with mu_ released during the write.
  void WriteGroup() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes the syncer job: syncs what is written, with mu_ released during the fdatasync.
  void SyncWritten() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Fail(const absl::Status& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Wal* const wal_;
  const uint64_t max_group_bytes_;
  mutable absl::Mutex mu_;
  // Callers get tickets in arrival order. Invariant: durable_ <= written_ <= next_ticket_, and
  // queue_ holds the batches of tickets [written_ + (in the writer's hands), next_ticket_).
  std::deque<const WalBatch*> queue_ ABSL_GUARDED_BY(mu_);
  uint64_t next_ticket_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t written_ ABSL_GUARDED_BY(mu_) = 0;  // tickets below are written (not synced)
  uint64_t durable_ ABSL_GUARDED_BY(mu_) = 0;  // tickets below are acknowledged
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool syncing_ ABSL_GUARDED_BY(mu_) = false;
  // The segment that holds ticket written_ - 1; earlier segments were synced by their roll.
  std::shared_ptr<io::File> written_file_ ABSL_GUARDED_BY(mu_);
  absl::Status failed_ ABSL_GUARDED_BY(mu_);
  uint64_t writes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t syncs_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace raftkv::storage
