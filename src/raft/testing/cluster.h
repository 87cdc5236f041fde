// A test cluster of RawNodes over MemoryStorage, with a manually driven network.
//
// The Cluster is the application around every node: it runs the Ready loop the way a real
// embedder must (send `messages`, persist snapshot / entries / hard state, send
// `persisted_messages`, apply, Advance), and it owns a network whose delivery the test
// controls message by message: deliver one, deliver a round, drop by type, partition, isolate,
// heal, crash and restart. Every input (tick, campaign, propose, delivered message) is followed
// by the recipient's Ready loop, so messages a node wants to send are visible in InFlight() as
// soon as the call returns.
//
// While it runs, the Cluster checks two of Raft's safety properties (paper Figure 3): at most
// one leader per term (Election Safety) and no two nodes applying different entries at the
// same index (State Machine Safety). A violation is a bug in the core; the default handler
// prints it and aborts so that no test can pass over it.
//
// Only the public API is used (RawNode, Ready, Status, MemoryStorage). Everything is
// deterministic: node seeds derive from ClusterOptions::seed, and delivery is FIFO.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "raftkv/raft/config.h"
#include "raftkv/raft/memory_storage.h"
#include "raftkv/raft/raw_node.h"
#include "raftkv/raft/ready.h"
#include "raftkv/raft/status.h"
#include "raftkv/raftpb/raft.pb.h"

namespace raftkv::raft::testing {

// Settings shared by every node of a cluster.
struct ClusterOptions {
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  bool pre_vote = false;
  bool check_quorum = false;
  uint64_t max_size_per_msg_bytes = kNoLimit;
  int max_inflight_msgs = 256;
  uint64_t max_committed_size_per_ready_bytes = kNoLimit;
  ReadOnlyOption read_only_option = ReadOnlyOption::kSafe;
  bool disable_proposal_forwarding = false;
  // Node i's random seed is derived from (seed, i); the same seed replays the same run.
  uint64_t seed = 1;
  // Called with a description of a broken safety property; the default aborts.
  std::function<void(const std::string&)> on_violation;
};

// The state a node starts from, for building the logs of the paper's figures.
struct NodeSetup {
  // The configuration written into the empty storage before the node starts. When both are
  // empty the storage is not bootstrapped (a node that will join an existing cluster).
  std::vector<uint64_t> voters;
  std::vector<uint64_t> learners;
  // Terms of the entries at indexes 1, 2, ... (empty data).
  std::vector<uint64_t> log_terms;
  // Persisted hard state. term is raised to the last log term if lower.
  uint64_t term = 0;
  uint64_t vote = 0;
  uint64_t commit = 0;
};

// Short human-readable forms, used in failure messages and golden files.
std::string MessageTypeName(raftpb::MessageType type);
std::string DescribeMessage(const raftpb::Message& m);
std::string DescribeEntry(const raftpb::Entry& e);

class Cluster {
 public:
  explicit Cluster(ClusterOptions options = {});
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Adds `count` founding members with the next free ids; all of them (and no one else) are
  // the voters of their initial configuration. Returns the new ids.
  std::vector<uint64_t> AddNodes(int count);
  // Adds `count` nodes that are not members yet, to be added by a configuration change. Their
  // storage holds the founders' initial configuration (what every member had at index 0), so
  // replaying the leader's log, configuration changes included, yields the current
  // configuration; a leader that compacted its log sends a snapshot instead.
  std::vector<uint64_t> AddJoiningNodes(int count);
  // Adds one node with a preset state (paper Figures 7 and 8).
  void AddNode(uint64_t id, const NodeSetup& setup);

  std::vector<uint64_t> ids() const;
  bool Has(uint64_t id) const { return nodes_.count(id) != 0; }

  // --- Inputs. Each is followed by the node's Ready loop. ---
  void Tick(uint64_t id, int ticks = 1);
  // Ticks every running node once per round, in id order.
  void TickAll(int rounds = 1);
  absl::Status Campaign(uint64_t id);
  absl::Status Propose(uint64_t id, std::string data);
  absl::Status ProposeConfChange(uint64_t id, const raftpb::ConfChangeV2& change);
  absl::Status ProposeConfChange(uint64_t id, const raftpb::ConfChange& change);
  void TransferLeader(uint64_t id, uint64_t transferee);
  void ReadIndex(uint64_t id, std::string request_ctx);
  void ReportUnreachable(uint64_t id, uint64_t peer);
  void ReportSnapshot(uint64_t id, uint64_t peer, SnapshotStatus status);
  // Steps a message straight into its recipient (m.to()), bypassing the network's filters.
  absl::Status Step(const raftpb::Message& m);

  // --- Network. Messages wait in a FIFO until delivered. ---
  const std::deque<raftpb::Message>& InFlight() const { return in_flight_; }
  // Messages waiting for delivery that match `pred`, without removing them.
  std::vector<raftpb::Message> Pending(
      const std::function<bool(const raftpb::Message&)>& pred) const;
  // Removes and returns every waiting message.
  std::vector<raftpb::Message> TakeInFlight();
  // Puts a message on the network (subject to the same filters as the nodes' own).
  void Send(const raftpb::Message& m);
  // Delivers the oldest waiting message; false if there was none.
  bool DeliverOne();
  // Delivers the oldest waiting message that matches `pred`; false if none does.
  bool DeliverFirst(const std::function<bool(const raftpb::Message&)>& pred);
  // Delivers the messages waiting now (one hop); replies queue up behind. Returns the count.
  int DeliverAll();
  // Delivers waiting messages addressed to `id` (one hop).
  int DeliverTo(uint64_t id);
  // Removes waiting messages that match `pred`; returns how many.
  int Drop(const std::function<bool(const raftpb::Message&)>& pred);
  // Delivers until no message is waiting and no node has a Ready. Returns messages delivered.
  int Stabilize();

  // Persistent filters: dropped messages are discarded when sent.
  void DropType(raftpb::MessageType type) { dropped_types_.insert(type); }
  void AllowType(raftpb::MessageType type) { dropped_types_.erase(type); }
  // Cuts every link between nodes of different groups; nodes not named keep all links.
  void Partition(const std::vector<std::vector<uint64_t>>& groups);
  void Isolate(uint64_t id);
  void Cut(uint64_t a, uint64_t b);
  // Restores every link (filters by type stay).
  void Heal() { cut_links_.clear(); }
  bool Reachable(uint64_t from, uint64_t to) const;

  // A crashed node keeps only what it persisted; messages to it are lost.
  void Crash(uint64_t id);
  // Rebuilds the RawNode from its storage, with `applied` = what it had applied.
  void Restart(uint64_t id);
  bool IsDown(uint64_t id) const;

  // Called for every message delivered (after filters), before it is stepped.
  void SetDeliverObserver(std::function<void(const raftpb::Message&)> observer) {
    deliver_observer_ = std::move(observer);
  }

  // --- Observations. ---
  RawNode& node(uint64_t id);
  MemoryStorage& storage(uint64_t id);
  Status status(uint64_t id) const;
  StateRole role(uint64_t id) const;
  uint64_t term(uint64_t id) const;
  // The leader with the highest term among running nodes, 0 if none.
  uint64_t Leader() const;
  // The persisted log (FirstIndex .. LastIndex) and hard state.
  std::vector<raftpb::Entry> Log(uint64_t id) const;
  std::vector<uint64_t> LogTerms(uint64_t id) const;
  raftpb::HardState hard_state(uint64_t id) const;
  // Entries handed to the application, in order, with the index applied last.
  const std::vector<raftpb::Entry>& applied(uint64_t id) const;
  uint64_t applied_index(uint64_t id) const;
  // Data of applied normal entries that carry data (skips the leaders' empty entries).
  std::vector<std::string> AppliedData(uint64_t id) const;
  const std::vector<ReadState>& read_states(uint64_t id) const;
  raftpb::ConfState conf_state(uint64_t id) const;

  // Lines describing what happened since the last call (role changes, applies, read states,
  // snapshots), for golden files.
  std::vector<std::string> TakeEvents();

 private:
  struct Node;
  class NodeApplication;

  Node& Get(uint64_t id);
  const Node& Get(uint64_t id) const;
  void StartNode(Node& node, uint64_t applied);
  // The application loop (raft::HandleReadies with a NodeApplication): handles Readys until
  // the node has none.
  void HandleReady(Node& node);
  void Apply(Node& node, const raftpb::Entry& entry);
  bool Filtered(const raftpb::Message& m) const;
  void Enqueue(const raftpb::Message& m);
  void Deliver(const raftpb::Message& m);
  void Violation(const std::string& what);
  uint64_t term_of(const Node& node) const;

  ClusterOptions options_;
  std::map<uint64_t, std::unique_ptr<Node>> nodes_;
  std::deque<raftpb::Message> in_flight_;
  std::set<std::pair<uint64_t, uint64_t>> cut_links_;
  std::set<raftpb::MessageType> dropped_types_;
  std::function<void(const raftpb::Message&)> deliver_observer_;
  std::vector<std::string> events_;
  // Voters of the first AddNodes call: the configuration at index 0.
  std::vector<uint64_t> founders_;
  // Election Safety: the leader seen in each term.
  std::map<uint64_t, uint64_t> leader_of_term_;
  // State Machine Safety: (term, data) of the entry applied first at each index.
  std::map<uint64_t, std::pair<uint64_t, std::string>> applied_at_;
};

}  // namespace raftkv::raft::testing
