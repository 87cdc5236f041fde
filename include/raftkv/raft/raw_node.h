// RawNode: the consensus core, driven by its caller.
//
// A RawNode is a pure state machine. It owns no thread, reads no clock and does no I/O: time
// advances when the caller calls Tick(), messages arrive through Step(), and everything the
// node wants done (persist, send, apply) comes back in a Ready. This is what makes a whole
// cluster replayable from one seed.
//
// Not thread-safe: one thread drives a RawNode.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "raftkv/raft/config.h"
#include "raftkv/raft/ready.h"
#include "raftkv/raft/status.h"
#include "raftkv/raftpb/raft.pb.h"

namespace raftkv::raft {

class Raft;

// Errors returned by proposals; test for them with the predicates.
bool IsProposalDropped(const absl::Status& s);   // no leader, leader transfer in progress, ...
bool IsStepLocalMessage(const absl::Status& s);  // a local-only message type arrived via Step
bool IsStepPeerNotFound(const absl::Status& s);  // response from a peer not in the config

enum class SnapshotStatus { kFinish, kFailure };

class RawNode {
 public:
  // A node with the configuration, log and hard state found in config.storage. A brand new
  // cluster is bootstrapped by writing its initial ConfState into the storage first (for
  // MemoryStorage: Bootstrap()). InvalidArgument if the config is invalid.
  static absl::StatusOr<std::unique_ptr<RawNode>> Create(const Config& config);
  ~RawNode();
  RawNode(const RawNode&) = delete;
  RawNode& operator=(const RawNode&) = delete;

  // Advances the logical clock by one tick: election timeouts and heartbeats are in ticks.
  void Tick();

  // Starts an election now (local MsgHup).
  absl::Status Campaign();

  // Proposes data to be appended to the log. Fails with a dropped-proposal error when there is
  // no leader, forwarding is disabled, or a leadership transfer is in progress.
  absl::Status Propose(std::string data);

  // Proposes several entries at once, all or nothing: the leader appends them together and
  // replicates them in one append per follower, which is much cheaper than one Propose each.
  // Same errors as Propose; InvalidArgument when `data` is empty.
  absl::Status ProposeBatch(std::vector<std::string> data);

  // Proposes a membership change. At most one may be pending (uncommitted or unapplied).
  absl::Status ProposeConfChange(const raftpb::ConfChange& change);
  absl::Status ProposeConfChange(const raftpb::ConfChangeV2& change);

  // Applies a committed membership change, once its entry is applied. Returns the new
  // configuration, which the application should store with its next snapshot.
  raftpb::ConfState ApplyConfChange(const raftpb::ConfChangeV2& change);
  raftpb::ConfState ApplyConfChange(const raftpb::ConfChange& change);

  // Delivers a message from a peer.
  absl::Status Step(const raftpb::Message& message);

  // False once Error() is set: a failed node has nothing more to hand out.
  bool HasReady() const;
  // The work accumulated since the last Advance. Call Advance() once it is handled. Check
  // Error() after each call: if it is set, this Ready is incomplete and must not be handled.
  Ready GetReady();
  void Advance();

  // OK while the node can go on. Otherwise Storage failed a read the node cannot make progress
  // without — the committed entries the application must apply next (an I/O or checksum
  // error) — and the error names it. The node keeps the error, HasReady() is false from then
  // on, and the application must stop driving the node (HandleReadies returns the error):
  // retrying would ask the same storage for the same entries forever, and skipping them would
  // apply later entries out of order.
  absl::Status Error() const { return error_; }

  // Asks the leader to hand leadership to `transferee` (thesis §3.10).
  void TransferLeader(uint64_t transferee);

  // Requests a linearizable read point; the answer comes as a ReadState in a later Ready.
  void ReadIndex(std::string request_ctx);

  // The transport could not reach `id`: the leader falls back to probing it.
  void ReportUnreachable(uint64_t id);
  // Outcome of sending a snapshot to `id`.
  void ReportSnapshot(uint64_t id, SnapshotStatus status);

  Status GetStatus() const;

 private:
  explicit RawNode(std::unique_ptr<Raft> raft);
  void AcceptReady(const Ready& ready);

  // What the outstanding Ready handed out, so that Advance knows what became durable and
  // what was applied.
  struct InFlight {
    uint64_t stable_index = 0;  // last entry handed out for persistence (0: none)
    uint64_t stable_term = 0;
    uint64_t snapshot_index = 0;  // snapshot handed out (0: none)
    uint64_t applied_index = 0;   // last committed entry handed out (0: none)
    uint64_t applied_bytes = 0;
  };

  std::unique_ptr<Raft> raft_;
  InFlight in_flight_;
  SoftState prev_soft_state_;
  raftpb::HardState prev_hard_state_;
  bool ready_outstanding_ = false;
  absl::Status error_;
};

}  // namespace raftkv::raft
