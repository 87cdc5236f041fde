// WalCommitter: group commit for many threads writing to one Wal.
//
// Each caller hands in a batch and blocks until it is durable. Whoever is at the head of the
// queue becomes the leader: it takes every batch queued behind it (up to max_group_bytes),
// writes them with one write call and one fdatasync, and wakes their owners. Callers that
// arrive while a leader is syncing form the next group, so under load the number of fsyncs per
// second stays at what the disk can do while the bytes per fsync grow. The Wal's own thread
// rules hold because only the current leader touches it.
//
// Batches are written in arrival order; the Wal does not look inside them, so giving entries
// their indexes (and keeping them contiguous in arrival order) is the caller's business.
//
// Thread-safe. The Wal must outlive the committer and must not be used directly meanwhile.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>

#include "storage/wal.h"

namespace raftkv::storage {

class WalCommitter {
 public:
  explicit WalCommitter(Wal* wal, uint64_t max_group_bytes = 8ull << 20)
      : wal_(wal), max_group_bytes_(max_group_bytes) {}

  // Writes `batch` durably, together with whatever other callers submit at the same time.
  absl::Status Commit(const WalBatch& batch);

  // Groups written so far (each with one fdatasync).
  uint64_t groups() const;

 private:
  struct Waiter {
    const WalBatch* batch;
    bool done = false;
    absl::Status status;
  };

  Wal* const wal_;
  const uint64_t max_group_bytes_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Waiter*> queue_;
  uint64_t groups_ = 0;
};

}  // namespace raftkv::storage
