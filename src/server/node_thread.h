// The one thread that runs this member's node::Driver.
//
// Everything that reaches the driver goes through the inbox: tasks from the gRPC threads (a
// write, a read, a membership change, a leadership transfer), raft messages and delivery
// reports from the transport threads. The thread wakes when work arrives or the next tick is
// due, and per pass ticks (if due), runs every queued task, steps every message, and then calls
// Process() once: whatever arrived together becomes one Ready, with one append and one fsync.
//
// After each pass it publishes the driver's leader, term, commit and applied index, so that the
// API threads can answer Info() and response headers without waiting for the thread.
//
// Thread-safety: every public method is thread-safe. Tasks run on the node thread and must not
// block.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "node/driver.h"
#include "spdlog/spdlog.h"
#include "transport/transport.h"

namespace raftkv::server {

struct NodeThreadOptions {
  // One raft tick: the heartbeat interval.
  absl::Duration tick_interval = absl::Milliseconds(100);
  // Raft messages queued for the thread beyond which further ones are dropped (raft
  // retransmits them), so that a slow disk does not make the inbox grow without bound.
  size_t max_pending_messages = 8192;
  std::shared_ptr<spdlog::logger> logger;
  // Called when a peer refuses this member's traffic because the cluster removed it. Must not
  // block.
  std::function<void(uint64_t peer_id)> on_removed_from_cluster;
};

class NodeThread final : public transport::Receiver {
 public:
  using Task = absl::AnyInvocable<void(node::Driver&)>;

  explicit NodeThread(NodeThreadOptions options);
  ~NodeThread() override;
  NodeThread(const NodeThread&) = delete;
  NodeThread& operator=(const NodeThread&) = delete;

  // Starts the thread around `driver`. Messages received before are kept for it.
  void Start(std::unique_ptr<node::Driver> driver);
  // Stops the thread, then completes every waiting request with "etcdserver: server stopped".
  // Idempotent.
  void Stop();

  // Queues `task` for the node thread. False, with `task` dropped, when the thread is not
  // running: the caller answers StoppedError itself.
  bool Post(Task task);

  // The driver's deadlines count ticks: the ticks left until `deadline`, at least 1.
  int TicksUntil(absl::Time deadline) const;
  absl::Duration tick_interval() const { return options_.tick_interval; }

  // Published after every pass of the thread.
  uint64_t leader() const { return leader_.load(); }
  uint64_t term() const { return term_.load(); }
  uint64_t commit() const { return commit_.load(); }
  uint64_t applied() const { return applied_.load(); }
  raft::StateRole role() const { return role_.load(); }
  bool is_leader() const { return role() == raft::StateRole::kLeader; }
  bool stopped() const { return stopped_.load(); }
  // Times a leader became known that differs from the one seen before (etcd's
  // etcd_server_leader_changes_seen_total).
  uint64_t leader_changes() const { return leader_changes_.load(); }
  // The most recent leader changes (at most kLeaderHistory), oldest first, for the status page.
  struct LeaderChange {
    absl::Time when;
    uint64_t leader = 0;
    uint64_t term = 0;
  };
  static constexpr size_t kLeaderHistory = 16;
  std::vector<LeaderChange> recent_leader_changes() const;

  // ---- Watch: hearing that the store moved on ----
  // `listener` is called on the node thread after every pass that applied entries (or installed
  // a snapshot), and once from Stop after stopped() became true. It must only note the news.
  // Replaces any earlier listener; once this returns the old one is not running.
  void SetAppliedListener(std::function<void()> listener);
  // ---- end of Watch ----

  // transport::Receiver
  void Receive(std::vector<raftpb::Message> messages) override;
  void ReportUnreachable(uint64_t peer_id) override;
  void ReportSnapshot(uint64_t peer_id, bool delivered) override;
  void ReportRemovedFromCluster(uint64_t peer_id) override;

 private:
  struct Inbox {
    std::vector<Task> tasks;
    std::vector<raftpb::Message> messages;
    std::vector<uint64_t> unreachable;
    std::vector<std::pair<uint64_t, bool>> snapshot_reports;
    bool empty() const {
      return tasks.empty() && messages.empty() && unreachable.empty() && snapshot_reports.empty();
    }
  };

  void Run();
  void Handle(Inbox inbox);
  void Publish();
  void NotifyApplied();

  const NodeThreadOptions options_;
  std::unique_ptr<node::Driver> driver_;  // the node thread's while it runs

  absl::Mutex mu_;
  Inbox inbox_ ABSL_GUARDED_BY(mu_);
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  std::atomic<uint64_t> leader_{0};
  std::atomic<uint64_t> term_{0};
  std::atomic<uint64_t> commit_{0};
  std::atomic<uint64_t> applied_{0};
  std::atomic<raft::StateRole> role_{raft::StateRole::kFollower};
  std::atomic<bool> stopped_{false};
  std::atomic<uint64_t> leader_changes_{0};
  mutable absl::Mutex history_mu_;
  std::deque<LeaderChange> leader_history_ ABSL_GUARDED_BY(history_mu_);

  absl::Mutex listener_mu_;
  std::function<void()> applied_listener_ ABSL_GUARDED_BY(listener_mu_);

  std::thread thread_;
};

}  // namespace raftkv::server
