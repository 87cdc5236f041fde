// One simulated server: the real consensus core (RawNode) over storage that stands for its
// disk, the key-value state machine, and the glue a real server has between them — the Ready
// loop, proposal and read-index waiting, snapshots and compaction.
//
// The storage is either a MemoryStorage (a crash keeps exactly what completed Ready handling
// persisted) or the real DurableStorage on the node's own in-memory FaultInjectionEnv (a crash
// destroys the storage object, drops every unsynced byte and name with a torn last write, and
// the restart runs the real recovery code). A crash destroys everything else; a restart
// rebuilds the RawNode from the storage and the state machine from its snapshot, as a real
// server does after a power cut. The node reports everything it persists
// and applies to the SafetyChecker. Not thread-safe: the simulator drives it from one thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "io/fault_injection_env.h"
#include "raftkv/raft/config.h"
#include "raftkv/raft/memory_storage.h"
#include "raftkv/raft/raw_node.h"
#include "sim/kv_state_machine.h"
#include "sim/safety_checker.h"
#include "sim/trace.h"
#include "storage/durable_storage.h"

namespace raftkv::sim {

enum class StorageKind {
  kMemory,   // raft::MemoryStorage; every persisted write survives a crash
  kDurable,  // storage::DurableStorage over a FaultInjectionEnv; only synced writes survive
};

struct NodeOptions {
  StorageKind storage = StorageKind::kMemory;
  // kDurable: WAL segment size, small so that runs roll segments and delete compacted ones.
  uint64_t wal_segment_bytes = 64 << 10;
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  bool pre_vote = false;
  bool check_quorum = false;
  uint64_t max_size_per_msg_bytes = 4096;
  int max_inflight_msgs = 64;
  // Take a snapshot after this many applied entries since the last one (0: never), then
  // compact the log, keeping this many entries before the snapshot index so that slightly
  // lagging followers still catch up from the log.
  uint64_t snapshot_interval_entries = 0;
  uint64_t compaction_keep_entries = 4;
};

// A client's request as it reaches a node.
struct ClientRequest {
  uint64_t client_id = 0;
  uint64_t request_id = 0;  // unique per attempt, so late replies can be recognised
  Command command;
  // For kGet: confirm leadership with ReadIndex (thesis §6.4) instead of going through the log.
  bool read_index = false;
};

struct ClientReply {
  enum class Code { kOk, kNotLeader };
  uint64_t client_id = 0;
  uint64_t request_id = 0;
  Code code = Code::kOk;
  uint64_t leader_hint = 0;  // kNotLeader: who the node thinks leads (0: unknown)
  CommandResult result;
  // kOk for a command that went through the log: where it was applied.
  uint64_t index = 0;
  uint64_t term = 0;
  std::string entry_data;
};

// What a node needs from the cluster around it.
class NodeHost {
 public:
  virtual ~NodeHost() = default;
  virtual void SendRaftMessage(const raftpb::Message& message) = 0;
  virtual void ReplyToClient(uint64_t node, const ClientReply& reply) = 0;
  virtual TimeUs now_us() const = 0;
  // The node applied a normal entry (for scenarios that follow particular values).
  virtual void OnApplied(uint64_t node, const raftpb::Entry& entry) {}
};

class SimNode {
 public:
  SimNode(uint64_t id, uint64_t seed, const NodeOptions& options, NodeHost* host,
          SafetyChecker* checker, Trace* trace);

  uint64_t id() const { return id_; }
  bool up() const { return raw_ != nullptr; }

  // Writes the founding configuration into the (empty) storage. Before the first Start().
  absl::Status Bootstrap(const raftpb::ConfState& conf_state);
  // Builds the RawNode and state machine from storage. REQUIRES: !up().
  absl::Status Start();
  // Loses everything not in storage. REQUIRES: up().
  void Crash();

  // Inputs; each handles any resulting Ready. REQUIRES: up().
  void Tick();
  void Deliver(const raftpb::Message& message);
  void HandleClientRequest(const ClientRequest& request);
  absl::Status Propose(const std::string& data);
  absl::Status Campaign();
  absl::Status ProposeConfChange(const raftpb::ConfChangeV2& change);
  void TransferLeader(uint64_t transferee);
  void ReportSnapshot(uint64_t to, raft::SnapshotStatus status);
  void ReportUnreachable(uint64_t to);

  // Observation.
  raft::Status GetStatus() const;
  raft::StateRole role() const { return soft_state_.role; }
  uint64_t leader() const { return soft_state_.leader; }
  uint64_t term() const { return hard_state_.term(); }
  uint64_t commit() const { return hard_state_.commit(); }
  uint64_t applied() const { return applied_; }
  uint64_t last_index() const { return storage_ != nullptr ? storage_->LastIndex() : 0; }
  bool durable() const { return options_.storage == StorageKind::kDurable; }
  const raftpb::ConfState& conf_state() const { return conf_state_; }
  const KvStateMachine& state_machine() const { return *state_machine_; }
  uint64_t snapshots_taken() const { return snapshots_taken_; }
  uint64_t snapshots_installed() const { return snapshots_installed_; }

 private:
  void HandleReadies();
  void HandleReady(raft::Ready ready);
  void ApplyEntry(const raftpb::Entry& entry);
  void ServeReads();
  void MaybeSnapshot();
  void FailPendingRequests();
  // Persists what a Ready asks for; false if the storage failed (reported to the checker).
  bool Persist(const raft::Ready& ready, bool leader_since_previous);
  absl::Status OpenDurable();
  absl::StatusOr<raftpb::Snapshot> CreateSnapshot(uint64_t index, std::string data);
  absl::Status Compact(uint64_t index);

  const uint64_t id_;
  const uint64_t seed_;
  const NodeOptions options_;
  NodeHost* host_;
  SafetyChecker* checker_;
  Trace* trace_;
  raft::DiscardLogger logger_;

  // Survives crashes: the node's disk. Memory mode keeps memory_; durable mode keeps disk_ and
  // reopens durable_ on it at every start. storage_ points at whichever is in use.
  std::unique_ptr<raft::MemoryStorage> memory_;
  std::unique_ptr<io::FaultInjectionEnv> disk_;
  std::unique_ptr<storage::DurableStorage> durable_;
  raft::Storage* storage_ = nullptr;
  uint64_t restarts_ = 0;

  // Lost on crash.
  std::unique_ptr<raft::RawNode> raw_;
  std::unique_ptr<KvStateMachine> state_machine_;
  raft::SoftState soft_state_;
  raftpb::HardState hard_state_;
  raftpb::ConfState conf_state_;
  uint64_t applied_ = 0;
  uint64_t last_snapshot_index_ = 0;
  // Leader of this term since the previous Ready (for the Leader Append-Only check).
  bool leader_at_previous_ready_ = false;
  // Writes waiting for their entry to be applied, by (client, seq).
  std::map<std::pair<uint64_t, uint64_t>, ClientRequest> pending_writes_;
  // Reads waiting for a ReadState (read_index == 0) or for applied >= read_index.
  struct PendingRead {
    ClientRequest request;
    uint64_t read_index = 0;
  };
  std::map<std::string, PendingRead> pending_reads_;
  uint64_t snapshots_taken_ = 0;
  uint64_t snapshots_installed_ = 0;
};

}  // namespace raftkv::sim
