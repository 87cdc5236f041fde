#include "sim/cluster.h"

#include <algorithm>

#include "fmt/format.h"
#include "sim/runner.h"

namespace raftkv::sim {
namespace {

// The key of direct proposals; the workload's keys are k0, k1, ...
constexpr char kDirectKey[] = "direct";

}  // namespace

Cluster::Cluster(const ClusterOptions& options)
    : options_(options),
      rand_(options.seed),
      network_(
          &queue_, &rand_, &trace_, [this](const raftpb::Message& m) { Deliver(m); },
          [this](const raftpb::Message& m, bool link_down) { Lost(m, link_down); }),
      watch_rand_(options.seed ^ 0x3a7c3a7c3a7c3a7cULL) {
  network_.set_faults(options_.network);
  // The server's founding log: one member per founder, as etcd's --initial-cluster lists them.
  std::vector<peerpb::Member> founders;
  for (int i = 1; i <= options_.nodes; ++i) {
    const auto id = static_cast<uint64_t>(i);
    ids_.push_back(id);
    peerpb::Member& member = founders.emplace_back();
    member.set_id(id);
    member.set_name(fmt::format("n{}", id));
    member.add_peer_urls(fmt::format("http://n{}:2380", id));
  }
  // A request waits in the driver about as long as its client waits for the answer.
  options_.node.request_timeout_ticks =
      std::max<int>(1, static_cast<int>(options_.workload.request_timeout_us / options_.tick_us));
  for (uint64_t id : ids_) {
    nodes_[id] = std::make_unique<SimNode>(id, options_.seed * 1000003 + id, options_.node,
                                           founders, this, &checker_, &trace_);
  }
  if (options_.leases_and_watches) {
    lease_checker_ = std::make_unique<LeaseChecker>(&checker_, options_.tick_us,
                                                    options_.lease_clients.tick_millis);
    for (uint64_t id : ids_) nodes_[id]->set_lease_checker(lease_checker_.get());
  }
  for (uint64_t id : ids_) {
    if (absl::Status s = nodes_[id]->Start(); !s.ok()) {
      checker_.Report(kScenario, fmt::format("start of node {}: {}", id, s.ToString()));
    }
    // Nodes tick at the same rate but out of phase, like independent processes.
    ScheduleTick(id, rand_.Uniform(options_.tick_us));
  }
  workload_ =
      std::make_unique<Workload>(options_.workload, &queue_, &rand_, &trace_, &checker_, this);
  if (options_.leases_and_watches) {
    LeaseClientOptions lease_options = options_.lease_clients;
    lease_options.tick_us = options_.tick_us;
    lease_options.request_timeout_us = options_.workload.request_timeout_us;
    lease_clients_ =
        std::make_unique<LeaseClients>(lease_options, &queue_, &rand_, lease_checker_.get(), this);
    // Half the watchers follow the workload's keys, half the leased ones (deleted by revokes).
    std::vector<std::string> prefixes;
    for (int i = 0; i < options_.workload.clients; ++i) prefixes.push_back(i % 2 == 0 ? "k" : "l");
    watch_checker_ =
        std::make_unique<WatchChecker>(&checker_, std::move(prefixes), options_.watch_page_limit);
  }
}

void Cluster::StartClients() {
  workload_->Start();
  if (lease_clients_ == nullptr) return;
  lease_clients_->Start();
  ScheduleWatch(queue_.now_us() + options_.watch_interval_us);
}

void Cluster::ScheduleWatch(TimeUs at_us) {
  queue_.At(at_us, [this, at_us] {
    if (lease_clients_ == nullptr) return;
    std::vector<uint64_t> up;
    for (const auto& [id, n] : nodes_) {
      if (n->up()) up.push_back(id);
    }
    if (!up.empty()) {
      for (size_t w = 0; w < watch_checker_->watchers(); ++w) {
        const uint64_t id = up[watch_rand_.Uniform(up.size())];
        watch_checker_->Advance(w, id, nodes_.at(id)->store());
      }
      const uint64_t id = up[watch_rand_.Uniform(up.size())];
      lease_checker_->CheckMember(id, nodes_.at(id)->store());
    }
    // Watchers stop with the clients (Quiesce); the final check reads the settled history.
    if (!stopped_watching_) ScheduleWatch(at_us + options_.watch_interval_us);
  });
}

void Cluster::CheckLeasesAndWatches() {
  if (lease_checker_ == nullptr) return;
  for (const auto& [id, n] : nodes_) {
    if (n->up()) lease_checker_->CheckMember(id, n->store());
  }
  if (failed()) return;
  if (const uint64_t leader = Leader(); leader != 0) {
    watch_checker_->CheckFinal(leader, nodes_.at(leader)->store());
  }
}

Cluster::~Cluster() = default;

void Cluster::ScheduleTick(uint64_t id, TimeUs at_us) {
  queue_.At(at_us, [this, id, at_us] {
    if (nodes_[id]->up()) nodes_[id]->Tick();
    ScheduleTick(id, at_us + options_.tick_us);
  });
}

void Cluster::RunFor(TimeUs duration_us) {
  const TimeUs end = queue_.now_us() + duration_us;
  while (!failed() && !queue_.empty() && queue_.next_us() <= end) queue_.RunNext();
  // Time passes even if nothing happens; ticks keep the queue non-empty anyway.
}

bool Cluster::RunUntil(const std::function<bool()>& done, TimeUs timeout_us) {
  const TimeUs end = queue_.now_us() + timeout_us;
  if (done()) return true;
  while (!failed() && !queue_.empty() && queue_.next_us() <= end) {
    queue_.RunNext();
    if (done()) return true;
  }
  return false;
}

void Cluster::SendRaftMessage(const raftpb::Message& message) { network_.Send(message); }

void Cluster::Deliver(const raftpb::Message& m) {
  SimNode& to = *nodes_.at(m.to());
  if (!to.up()) {
    // The connection to a crashed process fails, and the sender's transport notices.
    Lost(m, /*link_down=*/true);
    return;
  }
  to.Deliver(m);
  if (m.msg_type() == raftpb::MSG_SNAPSHOT) {
    // The sender's transport learns that the snapshot went through (etcd's ReportSnapshot).
    queue_.After(options_.network.min_latency_us, [this, m] {
      SimNode& from = *nodes_.at(m.from());
      if (from.up()) from.ReportSnapshot(m.to(), /*delivered=*/true);
    });
  }
}

void Cluster::Lost(const raftpb::Message& m, bool link_down) {
  // A transport notices a broken connection (etcd's ReportUnreachable) and a failed snapshot
  // stream (ReportSnapshot; otherwise the leader would wait for it forever, §7). A random loss
  // on a working link goes unnoticed: the core must recover from it on its own.
  const bool snapshot = m.msg_type() == raftpb::MSG_SNAPSHOT;
  if (!link_down && !snapshot) return;
  queue_.After(options_.network.min_latency_us, [this, m, link_down, snapshot] {
    SimNode& from = *nodes_.at(m.from());
    if (!from.up()) return;
    if (link_down) from.ReportUnreachable(m.to());
    if (snapshot) from.ReportSnapshot(m.to(), /*delivered=*/false);
  });
}

void Cluster::SendClientRequest(uint64_t node, const ClientRequest& request) {
  queue_.After(options_.client_latency_us, [this, node, request] {
    SimNode& n = *nodes_.at(node);
    if (n.up()) n.HandleClientRequest(request);
  });
}

void Cluster::ReplyToClient(uint64_t node, const ClientReply& reply) {
  queue_.After(options_.client_latency_us, [this, reply] {
    if (lease_clients_ != nullptr && lease_clients_->Owns(reply.client_id)) {
      lease_clients_->OnReply(reply);
    } else {
      workload_->OnReply(reply);
    }
  });
}

void Cluster::OnAppliedRequest(uint64_t node, uint64_t index, const kvpb::Request& request) {
  if (request.has_put() && request.put().key() == kDirectKey) {
    applied_index_.emplace(request.put().value(), index);
  }
}

void Cluster::Crash(uint64_t id) {
  if (nodes_.at(id)->up()) nodes_.at(id)->Crash();
}

void Cluster::Restart(uint64_t id) {
  SimNode& n = *nodes_.at(id);
  if (n.up()) return;
  if (absl::Status s = n.Start(); !s.ok()) {
    checker_.Report(kScenario, fmt::format("restart of node {}: {}", id, s.ToString()), {id});
  }
}

void Cluster::Note(std::string text) {
  trace_.Add(
      TraceEvent{.at_us = queue_.now_us(), .kind = TraceKind::kFault, .text = std::move(text)});
}

void Cluster::Isolate(uint64_t id) {
  Note(fmt::format("isolate {}", id));
  network_.Isolate(id, ids_);
}

void Cluster::Partition(const std::vector<std::vector<uint64_t>>& groups) {
  std::string text = "partition";
  for (const auto& group : groups) text += fmt::format(" [{}]", fmt::join(group, ","));
  Note(text);
  network_.Partition(groups);
}

void Cluster::CutOneWay(uint64_t from, uint64_t to) {
  Note(fmt::format("cut {}->{}", from, to));
  network_.Cut(from, to);
}

void Cluster::Heal() {
  Note("heal");
  network_.Heal();
}

void Cluster::SetNetwork(const NetworkFaults& faults) {
  Note(fmt::format("network drop={} dup={} latency=[{},{}]us", faults.drop_probability,
                   faults.duplicate_probability, faults.min_latency_us, faults.max_latency_us));
  network_.set_faults(faults);
}

uint64_t Cluster::Leader() const {
  uint64_t best = 0;
  uint64_t best_term = 0;
  for (const auto& [id, n] : nodes_) {
    if (n->up() && n->role() == raft::StateRole::kLeader && n->term() >= best_term) {
      best = id;
      best_term = n->term();
    }
  }
  return best;
}

std::vector<uint64_t> Cluster::Leaders() const {
  std::vector<uint64_t> out;
  for (const auto& [id, n] : nodes_) {
    if (n->up() && n->role() == raft::StateRole::kLeader) out.push_back(id);
  }
  return out;
}

uint64_t Cluster::AppliedIndex(const std::string& value) const {
  auto it = applied_index_.find(value);
  return it == applied_index_.end() ? 0 : it->second;
}

int Cluster::AppliedCount(const std::string& value) const {
  const uint64_t index = AppliedIndex(value);
  if (index == 0) return 0;
  int count = 0;
  for (const auto& [id, n] : nodes_) {
    if (n->up() && n->applied() >= index) ++count;
  }
  return count;
}

bool Cluster::AllPublished() const {
  for (const auto& [id, n] : nodes_) {
    if (!n->up() || !n->attributes_published()) return false;
  }
  return true;
}

bool Cluster::ProposeAt(uint64_t id, const std::string& value) {
  SimNode& n = *nodes_.at(id);
  if (!n.up() || n.role() != raft::StateRole::kLeader) return false;
  kvpb::Request request;
  request.mutable_put()->set_key(kDirectKey);
  request.mutable_put()->set_value(value);
  return n.ProposeWrite(std::move(request));
}

uint64_t Cluster::Agree(const std::string& value, int expected, TimeUs timeout_us) {
  const TimeUs end = queue_.now_us() + timeout_us;
  while (queue_.now_us() < end && !failed()) {
    const uint64_t leader = Leader();
    if (leader != 0 && ProposeAt(leader, value)) {
      if (RunUntil([&] { return AppliedCount(value) >= expected; },
                   std::min<TimeUs>(2'000'000, end - queue_.now_us()))) {
        return AppliedIndex(value);
      }
    } else {
      RunFor(50'000);
    }
  }
  return 0;
}

void Cluster::Quiesce(TimeUs timeout_us) {
  workload_->Stop();
  if (lease_clients_ != nullptr) lease_clients_->Stop();
  stopped_watching_ = true;
  Heal();
  SetNetwork(NetworkFaults::Reliable());
  for (uint64_t id : ids_) Restart(id);
  auto settled = [&] {
    const uint64_t leader = Leader();
    if (leader == 0 || !workload_->Idle()) return false;
    if (lease_clients_ != nullptr && !lease_clients_->Idle()) return false;
    const SimNode& l = *nodes_.at(leader);
    if (l.applied() != l.commit()) return false;
    const raftpb::ConfState& conf = l.conf_state();
    if (conf.voters_outgoing_size() > 0) return false;
    for (uint64_t id : conf.voters()) {
      const SimNode& n = *nodes_.at(id);
      if (!n.up() || n.applied() != l.applied() || n.term() != l.term()) return false;
    }
    return true;
  };
  if (!RunUntil(settled, timeout_us) && !failed()) {
    std::string state;
    for (const auto& [id, n] : nodes_) {
      state +=
          fmt::format(" [node {} {} term={} commit={} applied={}]", id,
                      n->up() ? raft::StateRoleName(n->role()) : "down", n->up() ? n->term() : 0,
                      n->up() ? n->commit() : 0, n->up() ? n->applied() : 0);
    }
    if (const uint64_t leader = Leader(); leader != 0) {
      state += fmt::format("; leader {} progress:", leader);
      for (const auto& [id, pr] : nodes_.at(leader)->GetStatus().progress) {
        state += fmt::format(" [{}: match={} next={} {}{}{} inflight={}]", id, pr.match, pr.next,
                             raft::ProgressStateName(pr.state), pr.paused ? " paused" : "",
                             pr.recent_active ? " active" : "", pr.inflight);
      }
    }
    checker_.Report(kLiveness,
                    fmt::format("the healed cluster did not settle on one leader with all voters "
                                "applied within {} ms (clients idle: {}):{}",
                                timeout_us / 1000, workload_->Idle(), state));
  }
}

void Cluster::CheckHistory() {
  if (failed()) return;
  checker_.CheckAcknowledgedWrites(Leader());
  if (failed()) return;
  CheckLeasesAndWatches();
  if (failed()) return;
  if (auto violation = CheckLinearizable(workload_->History()); violation.has_value()) {
    checker_.Report(violation->property, violation->detail);
  }
}

}  // namespace raftkv::sim
