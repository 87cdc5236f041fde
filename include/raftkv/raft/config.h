// Configuration of one consensus node.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "raftkv/raft/logger.h"
#include "raftkv/raft/storage.h"

namespace raftkv::raft {

// How read-only requests (ReadIndex) are confirmed (thesis §6.4).
enum class ReadOnlyOption {
  // The leader confirms it is still leader with a round of heartbeats acknowledged by a quorum
  // before answering. Always linearizable.
  kSafe,
  // The leader answers from its lease: it heard from a quorum less than an election timeout
  // ago, so no other leader can exist yet. Requires check_quorum, and assumes bounded clock
  // drift between nodes (see docs/raft.md).
  kLeaseBased,
};

struct Config {
  // This node's id. Must be non-zero.
  uint64_t id = 0;

  // Ticks a follower waits without hearing from a leader before campaigning. The actual
  // timeout is drawn uniformly from [election_ticks, 2 * election_ticks) (§5.2).
  int election_ticks = 10;
  // Ticks between heartbeats of a leader. Must be less than election_ticks.
  int heartbeat_ticks = 1;

  // The node's log. Not owned; must outlive the RawNode.
  Storage* storage = nullptr;

  // The last index the application has already applied, when restarting. Entries up to it are
  // not handed back in Ready::committed_entries.
  uint64_t applied = 0;

  // Upper bound on the bytes of entries in one append message; a single larger entry is still
  // sent alone. Also the unit of flow control.
  uint64_t max_size_per_msg_bytes = 1 << 20;
  // Upper bound on the bytes of committed entries handed out in one Ready.
  uint64_t max_committed_size_per_ready_bytes = 64 << 20;
  // Upper bound on the bytes of proposed but uncommitted entries a leader holds; further
  // proposals are refused until some commit. 0 means no limit.
  uint64_t max_uncommitted_entries_size_bytes = 0;
  // Appends in flight to a follower in replicate state before the leader pauses.
  int max_inflight_msgs = 256;

  // A leader steps down when it has not heard from a quorum within an election timeout.
  bool check_quorum = false;
  // Campaign only after a pre-vote round shows the node could win (thesis §9.6).
  bool pre_vote = false;
  ReadOnlyOption read_only_option = ReadOnlyOption::kSafe;
  // When true, followers refuse proposals instead of forwarding them to the leader.
  bool disable_proposal_forwarding = false;

  // Seed of the node's random source (election timeouts). Same seed, same behaviour.
  uint64_t random_seed = 0;

  // Not owned; null means discard.
  Logger* logger = nullptr;

  // OK, or InvalidArgument naming the offending field.
  absl::Status Validate() const;
};

}  // namespace raftkv::raft
