// Changer: computes the configuration that results from a membership change, without touching
// the live tracker (paper §6, thesis §4.1 single-server changes and §4.3 joint consensus).
//
// The caller installs the returned config and progress map only if the change is valid, so an
// invalid change never leaves a half-applied configuration behind. Thread-compatible.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "raft/tracker/tracker.h"
#include "raftkv/raftpb/raft.pb.h"

namespace raftkv::raft::confchange {

struct ChangeResult {
  tracker::TrackerConfig config;
  tracker::ProgressMap progress;
};

class Changer {
 public:
  // `tracker` is read, never written. last_index seeds the Next of added peers.
  Changer(const tracker::ProgressTracker& tracker, uint64_t last_index)
      : tracker_(tracker), last_index_(last_index) {}

  // Enters a joint configuration: the current voters become the outgoing half and the
  // changes are applied to the incoming half (thesis §4.3). InvalidArgument if already joint
  // or if the result would have no voters.
  absl::StatusOr<ChangeResult> EnterJoint(bool auto_leave,
                                          const std::vector<raftpb::ConfChangeSingle>& changes);

  // Leaves the joint configuration: the outgoing half is dropped and learners_next become
  // learners. InvalidArgument if not joint.
  absl::StatusOr<ChangeResult> LeaveJoint();

  // Applies changes that alter at most one voter directly, without a joint state (thesis
  // §4.1: any two majorities of configurations differing by one voter overlap).
  absl::StatusOr<ChangeResult> Simple(const std::vector<raftpb::ConfChangeSingle>& changes);

 private:
  const tracker::ProgressTracker& tracker_;
  uint64_t last_index_;
};

// Rebuilds the configuration described by a ConfState (from a snapshot or from storage at
// startup) by replaying it as a sequence of changes onto an empty tracker configuration.
absl::StatusOr<ChangeResult> Restore(const raftpb::ConfState& cs, size_t max_inflight,
                                     uint64_t max_inflight_bytes, uint64_t last_index);

// The changes a ConfChangeV2 stands for, and whether it must go through a joint state.
bool EnterJointRequired(const raftpb::ConfChangeV2& cc, bool* auto_leave);
bool LeaveJointRequested(const raftpb::ConfChangeV2& cc);
raftpb::ConfChangeV2 ToV2(const raftpb::ConfChange& cc);

}  // namespace raftkv::raft::confchange
