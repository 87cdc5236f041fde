#include "storage/wal_committer.h"

#include <vector>

namespace raftkv::storage {

absl::Status WalCommitter::Commit(const WalBatch& batch) {
  Waiter self{&batch, false, absl::OkStatus()};
  std::unique_lock lock(mu_);
  queue_.push_back(&self);
  cv_.wait(lock, [&] { return self.done || queue_.front() == &self; });
  if (self.done) return self.status;

  // Leader: gather the group while holding the lock (cheap pointer work), write and sync
  // without it so that the next group can queue up meanwhile.
  std::vector<Waiter*> group;
  uint64_t bytes = 0;
  for (Waiter* w : queue_) {
    if (!group.empty() && bytes + w->batch->size_bytes() > max_group_bytes_) break;
    group.push_back(w);
    bytes += w->batch->size_bytes();
  }
  lock.unlock();

  absl::Status status;
  if (group.size() == 1) {
    status = wal_->Write(batch, /*sync=*/true);
  } else {
    WalBatch merged;
    for (Waiter* w : group) merged.Append(*w->batch);
    status = wal_->Write(merged, /*sync=*/true);
  }

  lock.lock();
  ++groups_;
  for (Waiter* w : group) {
    w->status = status;
    w->done = true;
    queue_.pop_front();
  }
  cv_.notify_all();
  return status;
}

uint64_t WalCommitter::groups() const {
  std::lock_guard lock(mu_);
  return groups_;
}

}  // namespace raftkv::storage
