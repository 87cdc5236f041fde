// The apply thread of Node: applies committed entries to the store in log order.
#include <utility>

#include "raftkv/peerpb/peer.pb.h"
#include "server/node.h"

namespace raftkv::server {

void Node::RunApply() {
  while (true) {
    ApplyTask task;
    {
      absl::MutexLock lock(&apply_mu_);
      auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_) {
        return apply_stopping_ || !apply_queue_.empty();
      };
      apply_mu_.Await(absl::Condition(&has_work));
      if (apply_queue_.empty()) return;  // stopping, and everything handed over was applied
      task = std::move(apply_queue_.front());
      apply_queue_.pop_front();
    }
    if (task.snapshot.has_value()) ApplySnapshot(*task.snapshot);
    for (const raftpb::Entry& entry : task.entries) {
      if (entry.index() <= applied_index_.load()) continue;  // already in a restored snapshot
      ApplyEntry(entry);
    }
    read_waiters_.Applied(applied_index_.load());
    MaybeSnapshot(task.conf_state);
  }
}

void Node::ApplySnapshot(const raftpb::Snapshot& snapshot) {
  const uint64_t index = snapshot.metadata().index();
  if (index <= applied_index_.load()) return;
  if (absl::Status s = RestoreState(snapshot.data()); !s.ok()) {
    // The leader's snapshot passed its checksum but does not decode: continuing would apply
    // later entries to the wrong state.
    log_.critical("cannot restore the snapshot at index {}: {}; stopping", index,
                  std::string(s.message()));
    spdlog::shutdown();
    std::_Exit(1);
  }
  applied_index_ = index;
  last_snapshot_applied_ = index;
  log_.info("restored the store from a snapshot at index {}", index);
}

void Node::ApplyEntry(const raftpb::Entry& entry) {
  const uint64_t index = entry.index();
  peerpb::Proposal proposal;
  const bool ours = entry.entry_type() == raftpb::ENTRY_NORMAL && !entry.data().empty() &&
                    proposal.ParseFromString(entry.data());
  if (ours && proposal.has_kv_request()) {
    kvpb::Request request;
    WriteResult result = absl::InternalError("undecodable request");
    {
      absl::MutexLock lock(&store_mu_);
      if (request.ParseFromString(proposal.kv_request())) {
        result = store_.Apply(request, index);
      } else {
        store_.MarkApplied(index);
      }
    }
    applied_index_ = index;
    write_waiters_.Complete(proposal.request_id(), std::move(result));
    return;
  }
  if (entry.entry_type() == raftpb::ENTRY_CONF_CHANGE) {
    raftpb::ConfChange change;
    if (change.ParseFromString(entry.data())) ApplyMembershipChange(change);
  }
  if (ours && proposal.has_member_attributes()) {
    membership_->UpdateAttributes(proposal.member_attributes());
    if (proposal.member_attributes().id() == membership_->local_id()) {
      if (!attributes_published_.exchange(true)) {
        log_.info("published this member's attributes (name {}, client URLs) at index {}",
                  proposal.member_attributes().name(), index);
      }
    }
  }
  // Empty entries (a new leader's first entry, §5.4.2), attributes and configuration changes
  // leave the keys alone but still advance the applied index.
  {
    absl::MutexLock lock(&store_mu_);
    store_.MarkApplied(index);
  }
  applied_index_ = index;
}

void Node::MaybeSnapshot(const raftpb::ConfState& conf_state) {
  const uint64_t applied = applied_index_.load();
  if (applied - last_snapshot_applied_ < options_.snapshot_count) return;
  last_snapshot_applied_ = applied;
  StateAtIndex state;
  state.index = applied;
  state.conf_state = conf_state;
  state.data = EncodeState();
  absl::MutexLock lock(&inbox_mu_);
  inbox_.snapshot = std::move(state);
}

std::string Node::EncodeState() const {
  peerpb::StateSnapshot state;
  {
    // Only this thread writes the store, so a reader lock gives a stable picture.
    absl::ReaderMutexLock lock(&store_mu_);
    state.set_kv(store_.Snapshot());
  }
  for (peerpb::Member& m : membership_->List()) *state.add_members() = std::move(m);
  for (uint64_t id : membership_->RemovedIds()) state.add_removed_ids(id);
  return state.SerializeAsString();
}

absl::Status Node::RestoreState(const std::string& data) {
  peerpb::StateSnapshot state;
  if (!state.ParseFromString(data)) {
    return absl::DataLossError("the snapshot's application state does not decode");
  }
  {
    absl::MutexLock lock(&store_mu_);
    if (absl::Status s = store_.Restore(state.kv()); !s.ok()) return s;
  }
  if (state.members_size() > 0) {
    membership_->Restore({state.members().begin(), state.members().end()},
                         {state.removed_ids().begin(), state.removed_ids().end()});
  }
  return absl::OkStatus();
}

}  // namespace raftkv::server
