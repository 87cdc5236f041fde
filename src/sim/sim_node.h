// One simulated server: the node driver the server runs (node::Driver), over the real key-value
// store (node::StoreApplier) and a log store that stands for its disk.
//
// SimNode is only the host: it owns the disk, hands the driver's messages to the simulated
// network, feeds it ticks, peer messages and client requests, and calls Process() after each.
// The disk is either a MemoryLogStore (a crash keeps exactly what completed Ready handling
// persisted) or the real DurableLogStore on the node's own in-memory FaultInjectionEnv (a crash
// destroys the store, drops every unsynced byte and name with a torn last write, and the
// restart runs the real recovery code). A crash destroys everything else; a restart rebuilds
// the driver and the store from the disk, as a real server does after a power cut.
//
// Decorators around the log store and the applier show the SafetyChecker everything the node
// persists and applies. Not thread-safe: the simulator drives it from one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "io/fault_injection_env.h"
#include "node/driver.h"
#include "node/log_store.h"
#include "node/network.h"
#include "raftkv/kvpb/kv.pb.h"
#include "raftkv/peerpb/peer.pb.h"
#include "sim/node_observer.h"
#include "sim/observed_applier.h"
#include "sim/observed_log_store.h"
#include "sim/safety_checker.h"
#include "sim/trace.h"

namespace raftkv::sim {

enum class StorageKind {
  kMemory,   // node::MemoryLogStore; every persisted write survives a crash
  kDurable,  // node::DurableLogStore over a FaultInjectionEnv; only synced writes survive
};

// Where a node keeps its key-value state.
enum class EngineKind {
  kMemory,   // kv::MemoryEngine: lost with the process, rebuilt from the log's snapshot and entries
  kRocksDb,  // kv::RocksDbEngine in a directory of the node's own, reopened at its applied index
};

struct NodeOptions {
  StorageKind storage = StorageKind::kMemory;
  // kRocksDb: the engines live in <engine_root>/n<id>. RocksDB writes real files, not through
  // the crashable disk: a crash loses none of its commits, as when a process is killed (its
  // writes are in the kernel's page cache), while the raft log (kDurable) loses what it had not
  // synced, as after a power cut. The engine never gets ahead of the log's synced entries, so
  // the pair stays one a real member can be left with.
  EngineKind engine = EngineKind::kMemory;
  std::string engine_root;
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
  // Ticks a client's write or read may wait in the driver before it answers with a timeout.
  int request_timeout_ticks = 15;
};

// A client's request as it reaches a node.
struct ClientRequest {
  uint64_t client_id = 0;
  uint64_t request_id = 0;  // unique per attempt, so late replies can be recognised
  // Replicated through the log (a put, a compare-and-set, or a read-only transaction).
  kvpb::Request request;
  // Instead of `request`: read this key once a ReadIndex round confirms leadership (§6.4).
  std::optional<std::string> read_index_key;
  // Instead of `request`: a keep-alive of this lease, answered from the leader's lease clock.
  std::optional<int64_t> renew_lease_id;
};

struct ClientReply {
  enum class Code {
    kOk,           // the store's answer is in `response` or `range`
    kNotProposed,  // refused before it was proposed (not the leader, no leader, overloaded)
    kUnknown,      // proposed, not known to be applied (timed out)
    kFailed,       // applied, and the store refused it: it changed nothing
  };
  uint64_t client_id = 0;
  uint64_t request_id = 0;
  Code code = Code::kOk;
  uint64_t leader_hint = 0;  // kNotProposed: who the node thinks leads (0: unknown)
  kvpb::Response response;
  etcdserverpb::RangeResponse range;  // a read through ReadIndex
  // kOk for a request that went through the log: the entry it was applied as.
  uint64_t index = 0;
  uint64_t term = 0;
  std::string entry_data;
  // The answering member's term and the time it answered (a lease's TTL runs from then).
  uint64_t served_term = 0;
  TimeUs served_at_us = 0;
  // A keep-alive: the lease's TTL, or 0 when the lease no longer exists.
  int64_t renewed_ttl = 0;
};

// What a node needs from the cluster around it.
class NodeHost {
 public:
  virtual ~NodeHost() = default;
  virtual void SendRaftMessage(const raftpb::Message& message) = 0;
  virtual void ReplyToClient(uint64_t node, const ClientReply& reply) = 0;
  virtual TimeUs now_us() const = 0;
  // The node applied a client request at `index` (for scenarios that follow particular values).
  virtual void OnAppliedRequest(uint64_t node, uint64_t index, const kvpb::Request& request) {}
};

class SimNode {
 public:
  // `founders`: the members the cluster starts with, written as the founding log of a first
  // start (node::MakeFoundingLog), as the server does.
  SimNode(uint64_t id, uint64_t seed, const NodeOptions& options,
          std::vector<peerpb::Member> founders, NodeHost* host, SafetyChecker* checker,
          Trace* trace);
  ~SimNode();

  uint64_t id() const { return id_; }
  bool up() const { return driver_ != nullptr; }
  // Shows `leases` every entry this node persists and every request it applies.
  void set_lease_checker(LeaseChecker* leases) { observer_.leases = leases; }

  // Builds the driver and the store from the disk. REQUIRES: !up().
  absl::Status Start();
  // Loses everything not on the disk. REQUIRES: up().
  void Crash();

  // Inputs; each handles the resulting Readies. REQUIRES: up().
  void Tick();
  void Deliver(const raftpb::Message& message);
  void HandleClientRequest(const ClientRequest& request);
  // Proposes `request` if this node leads; false if it was refused before being proposed.
  bool ProposeWrite(kvpb::Request request);
  void Campaign();
  absl::Status ProposeConfChange(const raftpb::ConfChangeV2& change);
  void TransferLeader(uint64_t transferee);
  void ReportSnapshot(uint64_t to, bool delivered);
  void ReportUnreachable(uint64_t to);

  // Observation. REQUIRES: up().
  raft::Status GetStatus() const { return driver_->status(); }
  raft::StateRole role() const { return driver_->role(); }
  uint64_t leader() const { return driver_->leader(); }
  uint64_t term() const { return driver_->term(); }
  uint64_t commit() const { return driver_->commit(); }
  uint64_t applied() const { return driver_->applied(); }
  // The state's applied index when this incarnation's driver was created, before it applied
  // anything: its engine's on disk, or the log's snapshot's in memory.
  uint64_t applied_at_start() const { return applied_at_start_; }
  const raftpb::ConfState& conf_state() const { return driver_->conf_state(); }
  bool attributes_published() const { return driver_->attributes_published(); }
  const kv::Store& store() const { return applier_->store(); }
  // Counted over the node's whole life, across restarts.
  uint64_t snapshots_taken() const;
  uint64_t snapshots_installed() const;
  bool durable() const { return options_.storage == StorageKind::kDurable; }

 private:
  // Hands the driver's messages to the simulated network.
  class SimNetwork final : public node::Network {
   public:
    explicit SimNetwork(NodeHost* host) : host_(host) {}
    void Send(std::vector<raftpb::Message> messages) override;
    // Every simulated node stays reachable; cutting links is the nemesis's business.
    void FollowMembers(const node::MemberList&) override {}

   private:
    NodeHost* host_;
  };

  // Handles every Ready; a failure stops the node as a failing disk stops a server.
  void Process();
  node::DriverOptions DriverOptionsForThisStart() const;
  absl::Status OpenDisk();
  // The key-value state of this start: empty in memory, or the node's engine reopened.
  absl::StatusOr<std::unique_ptr<node::StoreApplier>> OpenState() const;
  void ObserveFoundingLog();
  void Reply(ClientReply reply);
  void Refuse(const ClientRequest& request);
  void CompleteWrite(const ClientRequest& request, node::WriteResult result);
  void CompleteRead(const ClientRequest& request, const absl::Status& status);
  void CompleteRenew(const ClientRequest& request, const absl::StatusOr<int64_t>& ttl);

  uint64_t applied_at_start_ = 0;
  const uint64_t id_;
  const uint64_t seed_;
  const NodeOptions options_;
  const std::vector<peerpb::Member> founders_;
  NodeHost* host_;
  SafetyChecker* checker_;
  Trace* trace_;
  SimNetwork network_;

  // Survives crashes: the node's disk. Memory mode keeps log_store_; durable mode keeps disk_
  // and reopens log_store_ on it at every start.
  std::unique_ptr<io::FaultInjectionEnv> disk_;
  std::unique_ptr<node::LogStore> log_store_;
  uint64_t restarts_ = 0;
  uint64_t snapshots_taken_before_ = 0;
  uint64_t snapshots_installed_before_ = 0;

  // Lost on crash.
  NodeObserver observer_;
  std::unique_ptr<ObservedLogStore> observed_log_;
  std::unique_ptr<ObservedApplier> applier_;
  std::unique_ptr<node::Driver> driver_;
};

}  // namespace raftkv::sim
