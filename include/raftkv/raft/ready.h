// What the consensus core asks the application to do.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "raftkv/raftpb/raft.pb.h"

namespace raftkv::raft {

enum class StateRole { kFollower, kCandidate, kLeader, kPreCandidate };
const char* StateRoleName(StateRole role);

// Volatile state that the application may want to observe; never persisted.
struct SoftState {
  uint64_t leader = 0;  // 0 when unknown
  StateRole role = StateRole::kFollower;
  bool operator==(const SoftState&) const = default;
};

// The answer to a ReadIndex request: once the application has applied up to `index`, a read
// issued with `request_ctx` may be served from the local state machine (thesis §6.4).
struct ReadState {
  uint64_t index = 0;
  std::string request_ctx;
};

// A batch of work. Handle it in this order, then call RawNode::Advance():
//   1. send `messages` (they do not depend on anything in this Ready being persisted: these
//      are the leader's appends and heartbeats, which may go out while the leader writes the
//      same entries to its own disk — thesis §10.2.1);
//   2. persist `snapshot` (if any), then `entries`, then `hard_state` (if any), durably when
//      `must_sync`;
//   3. send `persisted_messages` (votes and responses that promise something about durable
//      state);
//   4. apply `snapshot` (if any) and then `committed_entries` to the state machine.
struct Ready {
  std::optional<SoftState> soft_state;
  std::optional<raftpb::HardState> hard_state;
  std::vector<ReadState> read_states;
  std::vector<raftpb::Entry> entries;
  std::optional<raftpb::Snapshot> snapshot;
  std::vector<raftpb::Entry> committed_entries;
  std::vector<raftpb::Message> messages;
  std::vector<raftpb::Message> persisted_messages;
  bool must_sync = false;
};

}  // namespace raftkv::raft
