#include "sim/observed_log_store.h"

#include <utility>

#include "fmt/format.h"
#include "sim/lease_checker.h"

namespace raftkv::sim {

ObservedLogStore::ObservedLogStore(node::LogStore* inner, bool syncs_every_write,
                                   NodeObserver* observer, const raftpb::HardState& recovered)
    : inner_(inner),
      syncs_every_write_(syncs_every_write),
      observer_(observer),
      hard_state_(recovered) {}

void ObservedLogStore::ObserveSoftState(const raft::SoftState& soft_state) {
  soft_state_ = soft_state;
  observer_->trace->Add(TraceEvent{.at_us = observer_->now_us(),
                                   .kind = TraceKind::kRole,
                                   .a = observer_->node,
                                   .b = hard_state_.term(),
                                   .c = static_cast<uint64_t>(soft_state_.role),
                                   .d = soft_state_.leader});
  observer_->checker->ObserveRole(observer_->node, hard_state_.term(), soft_state_.role);
}

absl::Status ObservedLogStore::Save(const raft::Ready& ready) {
  if (ready.hard_state.has_value()) hard_state_ = *ready.hard_state;
  bool became_leader = false;
  if (ready.soft_state.has_value()) {
    const bool was_leader = soft_state_.role == raft::StateRole::kLeader;
    ObserveSoftState(*ready.soft_state);
    became_leader = !was_leader && soft_state_.role == raft::StateRole::kLeader;
  }
  const bool is_leader = soft_state_.role == raft::StateRole::kLeader;
  const bool leader_since_previous = is_leader && leader_at_previous_ready_ && !became_leader;
  leader_at_previous_ready_ = is_leader;

  // The applier is handed these next, from the same Ready.
  observer_->committed_entries = ready.committed_entries;
  observer_->snapshot.reset();
  if (ready.snapshot.has_value()) observer_->snapshot = ready.snapshot->metadata();

  // A snapshot no newer than the one the log holds is skipped by the store (not an error).
  bool snapshot_applied = false;
  if (ready.snapshot.has_value() && ready.snapshot->metadata().index() > 0) {
    absl::StatusOr<raftpb::Snapshot> held = inner_->storage().Snapshot();
    snapshot_applied = !held.ok() || ready.snapshot->metadata().index() > held->metadata().index();
  }
  if (absl::Status s = inner_->Save(ready); !s.ok()) {
    observer_->checker->Report(
        kLogMatching,
        fmt::format("node {} could not persist a Ready: {}", observer_->node, s.ToString()),
        {observer_->node});
    return s;
  }
  ObservePersisted(ready, snapshot_applied, leader_since_previous);
  if (became_leader) observer_->checker->ObserveLeaderLog(observer_->node, hard_state_.term());
  return absl::OkStatus();
}

void ObservedLogStore::ObservePersisted(const raft::Ready& ready, bool snapshot_applied,
                                        bool leader_since_previous) {
  const uint64_t node = observer_->node;
  SafetyChecker& checker = *observer_->checker;
  const TimeUs now = observer_->now_us();
  if (ready.snapshot.has_value() && ready.snapshot->metadata().index() > 0) {
    const raftpb::SnapshotMetadata& metadata = ready.snapshot->metadata();
    if (snapshot_applied) checker.ObservePersistSnapshot(node, metadata);
    observer_->trace->Add(TraceEvent{.at_us = now,
                                     .kind = TraceKind::kSnapshot,
                                     .a = node,
                                     .b = metadata.index(),
                                     .c = metadata.term()});
  }
  if (!ready.entries.empty()) {
    checker.ObservePersistEntries(node, hard_state_.term(), leader_since_previous, ready.entries);
    if (observer_->leases != nullptr) {
      observer_->leases->ObserveAppended(node, hard_state_.term(), ready.entries, now);
    }
  }
  // A durable store may lose a commit-only hard state written without a sync until its next
  // synced write, which makes every earlier write durable.
  const bool synced = syncs_every_write_ || ready.must_sync;
  if (ready.hard_state.has_value())
    checker.ObservePersistHardState(node, *ready.hard_state, synced);
  if (synced) checker.ObserveSync(node);
  if (!ready.entries.empty() || ready.hard_state.has_value()) {
    observer_->trace->Add(
        TraceEvent{.at_us = now,
                   .kind = TraceKind::kPersist,
                   .a = node,
                   .b = hard_state_.term(),
                   .c = hard_state_.commit(),
                   .d = ready.entries.empty() ? 0 : ready.entries.front().index(),
                   .e = ready.entries.empty() ? 0 : ready.entries.back().index()});
  }
}

absl::Status ObservedLogStore::CreateSnapshot(uint64_t index, const raftpb::ConfState& conf_state,
                                              std::string data) {
  return inner_->CreateSnapshot(index, conf_state, std::move(data));
}

absl::Status ObservedLogStore::Compact(uint64_t index) { return inner_->Compact(index); }

}  // namespace raftkv::sim
