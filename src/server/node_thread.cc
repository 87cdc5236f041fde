#include "server/node_thread.h"

#include <pthread.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "absl/time/clock.h"
#include "node/errors.h"

namespace raftkv::server {

namespace {

NodeThreadOptions WithDefaults(NodeThreadOptions options) {
  if (options.logger == nullptr) options.logger = spdlog::default_logger();
  return options;
}

}  // namespace

NodeThread::NodeThread(NodeThreadOptions options) : options_(WithDefaults(std::move(options))) {}

NodeThread::~NodeThread() { Stop(); }

void NodeThread::Start(std::unique_ptr<node::Driver> driver) {
  driver_ = std::move(driver);
  Publish();
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    running_ = true;
  }
  thread_ = std::thread([this] {
    // Named for profilers and top -H.
    pthread_setname_np(pthread_self(), "raft-node");
    Run();
  });
}

void NodeThread::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    running_ = false;
  }
  stopped_ = true;
  NotifyApplied();
  if (thread_.joinable()) thread_.join();
  if (driver_ == nullptr) return;
  // Tasks queued before Stop hand their waiters to the driver, which then answers them all.
  Inbox rest;
  {
    absl::MutexLock lock(&mu_);
    rest = std::move(inbox_);
    inbox_ = Inbox();
  }
  for (Task& task : rest.tasks) task(*driver_);
  driver_->FailAll(node::StoppedError());
}

bool NodeThread::Post(Task task) {
  absl::MutexLock lock(&mu_);
  if (!running_) return false;
  inbox_.tasks.push_back(std::move(task));
  return true;
}

int NodeThread::TicksUntil(absl::Time deadline) const {
  const double ticks =
      std::ceil(absl::FDivDuration(deadline - absl::Now(), options_.tick_interval));
  // An infinite deadline still has to fit an int; a billion ticks is years.
  return static_cast<int>(std::clamp(ticks, 1.0, 1e9));
}

void NodeThread::Run() {
  absl::Time next_tick = absl::Now() + options_.tick_interval;
  // Whether an applied compaction still has storage to free: the thread then does not sleep
  // but takes a step of it in each pass that finds nothing else to do.
  bool compaction_left = false;
  while (true) {
    Inbox inbox;
    {
      absl::MutexLock lock(&mu_);
      auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !inbox_.empty();
      };
      mu_.AwaitWithDeadline(absl::Condition(&has_work),
                            compaction_left ? absl::InfinitePast() : next_tick);
      if (stopping_) return;
      std::swap(inbox, inbox_);
    }
    const bool idle = inbox.empty();
    const absl::Time now = absl::Now();
    if (now >= next_tick) {
      driver_->Tick();
      next_tick += options_.tick_interval;
      // After a stall (a slow disk, a paused process) one tick, not a burst: a burst would
      // expire elections and deadlines that the stall, not the cluster, delayed.
      if (next_tick < now) next_tick = now + options_.tick_interval;
    }
    Handle(std::move(inbox));
    if (absl::Status s = driver_->Process(); !s.ok()) {
      // The log could not be persisted or read back, or a snapshot does not restore: going on
      // would break what this member's votes and acknowledgements promised (§5.2, §5.3), or
      // spin on entries it cannot apply.
      options_.logger->critical("{}; stopping", std::string(s.message()));
      spdlog::shutdown();
      std::_Exit(1);
    }
    const uint64_t applied_before = applied_.load();
    Publish();
    if (applied_.load() != applied_before) NotifyApplied();
    // Only passes that found nothing to do take a step, so that the work waits for the gaps in
    // the traffic (the entries applied meanwhile take steps of their own, as does each tick).
    if (idle) compaction_left = driver_->ContinueCompaction();
  }
}

void NodeThread::Handle(Inbox inbox) {
  for (Task& task : inbox.tasks) task(*driver_);
  for (const raftpb::Message& m : inbox.messages) driver_->Step(m);
  for (uint64_t id : inbox.unreachable) driver_->ReportUnreachable(id);
  for (auto [id, delivered] : inbox.snapshot_reports) driver_->ReportSnapshot(id, delivered);
}

void NodeThread::Publish() {
  // Counted as etcd counts them: each time a leader is known and differs from the last value
  // seen (a leader lost and found again counts again).
  const uint64_t leader = driver_->leader();
  if (leader != 0 && leader != leader_.load()) {
    leader_changes_.fetch_add(1);
    absl::MutexLock lock(&history_mu_);
    leader_history_.push_back({absl::Now(), leader, driver_->term()});
    if (leader_history_.size() > kLeaderHistory) leader_history_.pop_front();
  }
  leader_ = leader;
  term_ = driver_->term();
  commit_ = driver_->commit();
  applied_ = driver_->applied();
  role_ = driver_->role();
}

void NodeThread::SetAppliedListener(std::function<void()> listener) {
  absl::MutexLock lock(&listener_mu_);
  applied_listener_ = std::move(listener);
}

void NodeThread::NotifyApplied() {
  absl::MutexLock lock(&listener_mu_);
  if (applied_listener_) applied_listener_();
}

std::vector<NodeThread::LeaderChange> NodeThread::recent_leader_changes() const {
  absl::MutexLock lock(&history_mu_);
  return {leader_history_.begin(), leader_history_.end()};
}

void NodeThread::Receive(std::vector<raftpb::Message> messages) {
  absl::MutexLock lock(&mu_);
  for (raftpb::Message& m : messages) {
    // Dropping is safe: raft retransmits whatever a peer does not acknowledge.
    if (inbox_.messages.size() >= options_.max_pending_messages) {
      options_.logger->debug("raft inbox full; dropping a {} from {:x}",
                             raftpb::MessageType_Name(m.msg_type()), m.from());
      continue;
    }
    inbox_.messages.push_back(std::move(m));
  }
}

void NodeThread::ReportUnreachable(uint64_t peer_id) {
  absl::MutexLock lock(&mu_);
  if (std::find(inbox_.unreachable.begin(), inbox_.unreachable.end(), peer_id) !=
      inbox_.unreachable.end()) {
    return;
  }
  inbox_.unreachable.push_back(peer_id);
}

void NodeThread::ReportSnapshot(uint64_t peer_id, bool delivered) {
  absl::MutexLock lock(&mu_);
  inbox_.snapshot_reports.emplace_back(peer_id, delivered);
}

void NodeThread::ReportRemovedFromCluster(uint64_t peer_id) {
  if (options_.on_removed_from_cluster) options_.on_removed_from_cluster(peer_id);
}

}  // namespace raftkv::server
