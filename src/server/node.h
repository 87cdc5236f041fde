// The node driver: runs one raft member and serves the etcd API's Backend on top of it.
//
// Threads (thesis §10.2 describes the same pipeline):
//   - the raft thread owns the RawNode: it ticks it every tick interval, steps the messages peers
//     send, proposes the queued client requests as one batch, and handles each Ready — send
//     `messages` (the leader's appends go out while it persists the same entries, §10.2.1),
//     persist snapshot/entries/hard state with one fsync, send `persisted_messages`, pass the
//     committed entries to the apply thread, Advance;
//   - the apply thread applies committed entries to the kv::Store in log order, completes the
//     waiting writes (on every member: the member that proposed an entry answers its caller when
//     it applies it), wakes linearizable reads whose read index is now applied, and every
//     --snapshot-count entries snapshots the store so the raft thread can compact the log.
// The two threads, the transport and the gRPC threads talk through bounded queues; a full queue
// answers "etcdserver: too many requests".
//
// Thread-safety: the public methods are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "kv/store.h"
#include "raftkv/raft/raw_node.h"
#include "server/etcd/backend.h"
#include "server/log_store.h"
#include "server/membership.h"
#include "server/wait.h"
#include "spdlog/spdlog.h"
#include "transport/transport.h"

namespace raftkv::server {

struct NodeOptions {
  std::string name;
  // This member's advertised client URLs, replicated as its attributes when it starts.
  std::vector<std::string> client_urls;
  // One raft tick; the heartbeat interval.
  absl::Duration tick_interval = absl::Milliseconds(100);
  int election_ticks = 10;
  // Applied entries between two snapshots of the store (etcd's --snapshot-count).
  uint64_t snapshot_count = 100000;
  // Entries kept in the log behind a snapshot, so that a follower just behind catches up from
  // the log rather than by a whole snapshot.
  uint64_t snapshot_catchup_entries = 5000;
  // Bounds of the queues into the raft thread.
  size_t max_pending_proposals = 4096;
  size_t max_pending_messages = 8192;
  // Committed but unapplied entries beyond which new writes are refused (as etcd does).
  uint64_t max_apply_backlog = 5000;
  uint64_t random_seed = 0;
  std::shared_ptr<spdlog::logger> logger;
  // Called once, from the apply thread, when this member applies its own removal from the
  // cluster; the server then shuts down as etcd does. Must not block.
  std::function<void()> on_removed;
};

// The API layer's picture of a member.
etcd::MemberInfo ToMemberInfo(const peerpb::Member& member);

// Makes `member` a peer of `transport` at its first peer URL (nothing if it has none).
// InvalidArgument for a peer URL that does not parse.
absl::Status ConnectPeer(const peerpb::Member& member, transport::Transport& transport);

// Makes every other member of `membership` a peer of `transport`. InvalidArgument for a member
// whose peer URL does not parse.
absl::Status AddPeers(const Membership& membership, transport::Transport& transport);

class Node final : public etcd::Backend, public transport::Receiver {
 public:
  // Restores the store from the log's latest snapshot and creates the RawNode. `membership`
  // must outlive the node. Does not start any thread.
  static absl::StatusOr<std::unique_ptr<Node>> Create(NodeOptions options, Membership* membership,
                                                      std::unique_ptr<LogStore> log_store);
  ~Node() override;

  // Starts the raft and apply threads, sending through `transport` (which delivers to this
  // node as its Receiver). REQUIRES: transport outlives Stop().
  void Start(transport::Transport* transport);
  // Stops both threads; waiting calls fail with "etcdserver: server stopped". Idempotent.
  void Stop();

  // etcd::Backend
  absl::StatusOr<kvpb::Response> Write(kvpb::Request request, absl::Time deadline) override;
  absl::Status WaitLinearizable(absl::Time deadline) override;
  void Read(absl::FunctionRef<void(const kv::Store&)> fn) override;
  etcd::NodeInfo Info() override;
  absl::StatusOr<etcd::MemberInfo> AddMember(const std::vector<std::string>& peer_urls,
                                             bool is_learner, absl::Time deadline) override;
  absl::Status RemoveMember(uint64_t id, absl::Time deadline) override;
  absl::Status PromoteMember(uint64_t id, absl::Time deadline) override;
  absl::Status UpdateMember(uint64_t id, const std::vector<std::string>& peer_urls,
                            absl::Time deadline) override;
  absl::Status MoveLeader(uint64_t target, absl::Time deadline) override;

  // transport::Receiver
  void Receive(std::vector<raftpb::Message> messages) override;
  void ReportUnreachable(uint64_t peer_id) override;
  void ReportSnapshot(uint64_t peer_id, bool delivered) override;
  void ReportRemovedFromCluster(uint64_t peer_id) override;

  uint64_t leader_id() const { return leader_id_.load(); }
  uint64_t applied_index() const { return applied_index_.load(); }

 private:
  // An encoded peerpb::StateSnapshot of the applied state at `index`.
  struct StateAtIndex {
    uint64_t index = 0;
    raftpb::ConfState conf_state;
    std::string data;
  };
  // A membership change waiting for the raft thread to propose it (on the leader only).
  struct MembershipProposal {
    raftpb::ConfChange change;  // its id is the waiter's request id
    // A promotion: refused unless the learner's log has caught up with the leader's.
    bool require_learner_caught_up = false;
  };
  // Work for the raft thread, queued by other threads.
  struct Inbox {
    std::vector<raftpb::Message> messages;
    // Request id and encoded peerpb::Proposal.
    std::vector<std::pair<uint64_t, std::string>> proposals;
    std::vector<StatusPromise> reads;
    std::vector<MembershipProposal> membership_changes;
    uint64_t transfer_leader_to = 0;  // 0: none
    std::vector<uint64_t> unreachable;
    std::vector<std::pair<uint64_t, bool>> snapshot_reports;
    // A store snapshot taken by the apply thread.
    std::optional<StateAtIndex> snapshot;
    bool empty() const {
      return messages.empty() && proposals.empty() && reads.empty() && membership_changes.empty() &&
             transfer_leader_to == 0 && unreachable.empty() && snapshot_reports.empty() &&
             !snapshot.has_value();
    }
  };
  // Work for the apply thread, in log order.
  struct ApplyTask {
    std::optional<raftpb::Snapshot> snapshot;
    std::vector<raftpb::Entry> entries;
    raftpb::ConfState conf_state;  // the configuration once these entries are applied
  };
  // Read requests sharing one ReadIndex context.
  struct PendingRead {
    std::vector<StatusPromise> waiters;
    absl::Time issued;
  };

  Node(NodeOptions options, Membership* membership, std::unique_ptr<LogStore> log_store);

  uint64_t NextRequestId();
  // The error a call that could not complete before its deadline reports.
  absl::Status DeadlineError() const;
  bool IsLeader() const { return leader_id_.load() == membership_->local_id(); }
  // Waits until the entry of request `id` is applied (its waiter completed) or `deadline`
  // passes; then the waiter is forgotten and the deadline error returned.
  WriteResult AwaitApplied(uint64_t id, std::future<WriteResult> result, absl::Time deadline);

  // node_membership.cc: membership changes, from the gRPC threads to the apply thread.
  // Queues `proposal` for the raft thread and waits until this member applied it.
  absl::Status ChangeMembership(MembershipProposal proposal, absl::Time deadline);
  // Raft thread: proposes a queued change, or answers its waiter with the reason it cannot.
  void ProposeMembershipChange(MembershipProposal proposal);
  // Raft thread: the transport follows a committed change (peers added, moved, removed).
  void FollowMembershipChange(const raftpb::ConfChange& change);
  // Apply thread: the member list follows an applied change; the waiter is answered.
  void ApplyMembershipChange(const raftpb::ConfChange& change);
  // Stops serving for good: this member is no longer part of the cluster (etcd exits then too).
  void LeaveRemoved(const std::string& why);

  // node_raft.cc: the raft thread.
  void RunRaft();
  void ProcessInbox(Inbox inbox);
  void HandleReady(raft::Ready ready);
  void IssueReads(std::vector<StatusPromise> reads);
  void RetryReads();
  void MaybePublishAttributes();
  void TakeSnapshot(StateAtIndex state);

  // node_apply.cc: the apply thread.
  void RunApply();
  void ApplySnapshot(const raftpb::Snapshot& snapshot);
  void ApplyEntry(const raftpb::Entry& entry);
  void MaybeSnapshot(const raftpb::ConfState& conf_state);
  absl::Status RestoreState(const std::string& data);
  std::string EncodeState() const;

  const NodeOptions options_;
  spdlog::logger& log_;
  Membership* const membership_;
  std::unique_ptr<LogStore> log_store_;
  transport::Transport* transport_ = nullptr;

  // Raft thread only.
  std::unique_ptr<raft::Logger> raft_logger_;
  std::unique_ptr<raft::RawNode> raw_node_;
  raftpb::ConfState conf_state_;
  absl::flat_hash_map<std::string, PendingRead> pending_reads_;
  absl::Time next_publish_ = absl::InfinitePast();
  uint64_t snapshot_index_ = 0;

  // Inbox of the raft thread.
  absl::Mutex inbox_mu_;
  Inbox inbox_ ABSL_GUARDED_BY(inbox_mu_);
  bool stopping_ ABSL_GUARDED_BY(inbox_mu_) = false;

  // Queue of the apply thread.
  absl::Mutex apply_mu_;
  std::deque<ApplyTask> apply_queue_ ABSL_GUARDED_BY(apply_mu_);
  bool apply_stopping_ ABSL_GUARDED_BY(apply_mu_) = false;

  // The store: written by the apply thread only, read by gRPC threads under a reader lock.
  mutable absl::Mutex store_mu_;
  kv::Store store_ ABSL_GUARDED_BY(store_mu_);
  uint64_t last_snapshot_applied_ = 0;  // apply thread only

  RequestWaiters write_waiters_;
  IndexWaiters read_waiters_;

  // Published by the raft and apply threads for Info() and the admission checks.
  std::atomic<uint64_t> leader_id_{0};
  std::atomic<uint64_t> term_{0};
  std::atomic<uint64_t> commit_index_{0};
  std::atomic<uint64_t> applied_index_{0};
  std::atomic<bool> attributes_published_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> removed_{false};  // this member applied its own removal
  std::atomic<uint64_t> next_request_id_{0};

  std::thread raft_thread_;
  std::thread apply_thread_;
  bool started_ = false;
};

}  // namespace raftkv::server
