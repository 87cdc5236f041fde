// A LogStore decorator that shows the safety checker everything the node persists, in the
// order it persists it: roles (a Ready's soft state), snapshots, entries, hard states, syncs,
// and the log of a new leader once its first Ready is durable.
//
// One per incarnation of a node: its view of the node's soft state starts empty at a restart,
// as the driver's does. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "node/log_store.h"
#include "sim/node_observer.h"

namespace raftkv::sim {

class ObservedLogStore final : public node::LogStore {
 public:
  // `syncs_every_write`: a write survives a crash once Save returns, synced or not (memory
  // storage); otherwise only what a must_sync Save wrote (and everything before it) does.
  ObservedLogStore(node::LogStore* inner, bool syncs_every_write, NodeObserver* observer,
                   const raftpb::HardState& recovered);

  raft::Storage& storage() override { return inner_->storage(); }
  absl::Status Save(const raft::Ready& ready) override;
  absl::Status CreateSnapshot(uint64_t index, const raftpb::ConfState& conf_state,
                              std::string data) override;
  absl::Status Compact(uint64_t index) override;

 private:
  void ObserveSoftState(const raft::SoftState& soft_state);
  void ObservePersisted(const raft::Ready& ready, bool snapshot_applied,
                        bool leader_since_previous);

  node::LogStore* const inner_;
  const bool syncs_every_write_;
  NodeObserver* const observer_;
  raftpb::HardState hard_state_;
  raft::SoftState soft_state_;
  // Leader of the current term at the previous Ready (for the Leader Append-Only check).
  bool leader_at_previous_ready_ = false;
};

}  // namespace raftkv::sim
