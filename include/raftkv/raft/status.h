// A point-in-time description of a node, for operators, the server and tests.
#pragma once

#include <cstdint>
#include <map>

#include "raftkv/raft/ready.h"
#include "raftkv/raftpb/raft.pb.h"

namespace raftkv::raft {

// How the leader replicates to one follower.
enum class ProgressState {
  kProbe,      // one append at a time, until the follower's position is known
  kReplicate,  // appends pipelined up to the in-flight limit
  kSnapshot,   // waiting for a snapshot to be installed
};
const char* ProgressStateName(ProgressState state);

struct ProgressStatus {
  uint64_t match = 0;  // highest index known to be replicated on the follower
  uint64_t next = 0;   // index of the next entry to send; invariant: match < next
  ProgressState state = ProgressState::kProbe;
  uint64_t pending_snapshot = 0;
  bool recent_active = false;
  bool is_learner = false;
  bool paused = false;
  int inflight = 0;
};

struct Status {
  uint64_t id = 0;
  raftpb::HardState hard_state;
  SoftState soft_state;
  uint64_t applied = 0;
  raftpb::ConfState conf_state;
  // Only on the leader: one entry per voter and learner, itself included.
  std::map<uint64_t, ProgressStatus> progress;
  uint64_t lead_transferee = 0;
};

}  // namespace raftkv::raft
