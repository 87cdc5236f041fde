#include "server/locked_applier.h"

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

absl::Status LockedApplier::Restore(uint64_t index, std::string_view data) {
  absl::MutexLock lock(&mu_);
  return state_->Restore(index, data);
}

}  // namespace raftkv::server
