#include "storage/wal_committer.h"

#include <vector>

namespace raftkv::storage {

absl::Status WalCommitter::Commit(const WalBatch& batch) {
  absl::MutexLock lock(&mu_);
  if (!failed_.ok()) return failed_;
  const uint64_t ticket = next_ticket_++;
  queue_.push_back(&batch);
  // absl evaluates this with mu_ held, on the unlocking thread, and wakes only a waiter for
  // which it holds: one caller per free job, not all 64 on every change.
  const auto can_proceed = [this, ticket]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (ticket < durable_) return true;
    if (!failed_.ok()) return !writing_;
    return (!writing_ && !queue_.empty()) || (!syncing_ && written_ > durable_);
  };
  while (true) {
    mu_.Await(absl::Condition(&can_proceed));
    if (ticket < durable_) return absl::OkStatus();
    // After a failure, wait for the writer: it may still be reading our batch.
    if (!failed_.ok()) return failed_;
    if (!writing_ && !queue_.empty()) {
      WriteGroup();
    } else {
      SyncWritten();
    }
  }
}

void WalCommitter::WriteGroup() {
  writing_ = true;
  std::vector<const WalBatch*> group;
  uint64_t bytes = 0;
  while (!queue_.empty()) {
    const WalBatch* b = queue_.front();
    if (!group.empty() && bytes + b->size_bytes() > max_group_bytes_) break;
    group.push_back(b);
    bytes += b->size_bytes();
    queue_.pop_front();
  }
  mu_.Unlock();
  // Only the writer touches the Wal, so its single-thread rule holds; the syncer touches only
  // the File it was handed.
  const absl::Status status = wal_->WriteGroup(group, /*sync=*/false);
  std::shared_ptr<io::File> file = status.ok() ? wal_->active_file() : nullptr;
  mu_.Lock();
  writing_ = false;
  ++writes_;
  if (status.ok()) {
    written_ += group.size();
    written_file_ = std::move(file);
  } else {
    Fail(status);  // the Wal has already failed itself
  }
}

void WalCommitter::SyncWritten() {
  syncing_ = true;
  const uint64_t target = written_;
  // The write of ticket target - 1 has returned, so this fdatasync starts after every byte it
  // must cover was written. If a roll moved the Wal to a new segment since, the roll synced the
  // old one; the new one holds only bytes written later, which a later sync covers.
  std::shared_ptr<io::File> file = written_file_;
  mu_.Unlock();
  const absl::Status status = file->DataSync();
  mu_.Lock();
  syncing_ = false;
  ++syncs_;
  if (!status.ok()) {
    Fail(status);
    // Record it in the Wal too, once the writer (the only other user of the Wal) is done; no new
    // writer starts after a failure.
    const auto writer_idle = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return !writing_; };
    mu_.Await(absl::Condition(&writer_idle));
    wal_->MarkFailed(status);
  } else if (failed_.ok()) {
    durable_ = target;
  }
}

void WalCommitter::Fail(const absl::Status& s) {
  if (failed_.ok()) failed_ = s;
  // The queued batches will never be written; their owners return failed_.
  queue_.clear();
}

uint64_t WalCommitter::writes() const {
  absl::MutexLock lock(&mu_);
  return writes_;
}

uint64_t WalCommitter::syncs() const {
  absl::MutexLock lock(&mu_);
  return syncs_;
}

}  // namespace raftkv::storage
