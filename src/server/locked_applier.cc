#include "server/locked_applier.h"

#include "absl/time/clock.h"

namespace raftkv::server {

void LockedApplier::Read(absl::FunctionRef<void(const node::StoreApplier&)> fn) const {
  absl::ReaderMutexLock lock(&mu_);
  fn(*state_);
}

absl::StatusOr<kvpb::Response> LockedApplier::ApplyRequest(uint64_t index,
                                                           const kvpb::Request& request) {
  absl::MutexLock lock(&mu_);
  return state_->ApplyRequest(index, request);
}

void LockedApplier::ApplyConfChange(uint64_t index, const raftpb::ConfChange& change) {
  absl::MutexLock lock(&mu_);
  state_->ApplyConfChange(index, change);
}

void LockedApplier::ApplyMemberAttributes(uint64_t index, const peerpb::Member& attributes) {
  absl::MutexLock lock(&mu_);
  state_->ApplyMemberAttributes(index, attributes);
}

void LockedApplier::MarkApplied(uint64_t index) {
  absl::MutexLock lock(&mu_);
  state_->MarkApplied(index);
}

bool LockedApplier::ContinueCompaction() {
  // Most ticks have nothing to do: no lock for them.
  if (!state_->store().compaction_in_progress()) return false;
  absl::MutexLock lock(&mu_);
  return state_->ContinueCompaction();
}

absl::Status LockedApplier::Restore(uint64_t index, std::string_view data) {
  absl::MutexLock engine(&engine_mu_);
  absl::MutexLock lock(&mu_);
  return state_->Restore(index, data);
}

absl::StatusOr<LockedApplier::CheckpointTaken> LockedApplier::Checkpoint(
    const std::string& dir) const {
  absl::ReaderMutexLock engine(&engine_mu_);
  const kv::Store& store = state_->store();
  if (!store.can_checkpoint()) {
    return absl::FailedPreconditionError(
        "this member keeps its state in memory: it has no checkpoint to send");
  }
  // Most of the work (writing the buffered writes out) happens while entries are still being
  // applied; what is left for the reader lock is the writes since then and the links.
  if (absl::Status s = store.PrepareCheckpoint(); !s.ok()) return s;
  // Between two entries: the checkpoint holds exactly the state at applied_index().
  absl::ReaderMutexLock lock(&mu_);
  const absl::Time start = absl::Now();
  if (absl::Status s = store.Checkpoint(dir); !s.ok()) return s;
  return CheckpointTaken{.applied_index = state_->applied_index(),
                         .held_reader_lock = absl::Now() - start};
}

}  // namespace raftkv::server
