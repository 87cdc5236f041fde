#include "server/node.h"

#include <future>
#include <utility>

#include "absl/strings/str_cat.h"
#include "raftkv/peerpb/peer.pb.h"
#include "server/raft_logger.h"
#include "server/url.h"

namespace raftkv::server {

Node::Node(NodeOptions options, Membership* membership, std::unique_ptr<LogStore> log_store)
    : options_(std::move(options)),
      log_(*options_.logger),
      membership_(membership),
      log_store_(std::move(log_store)) {
  // Request ids: the low 16 bits of the member id, then the start time in milliseconds, then a
  // counter, as etcd does, so that ids differ between members and across restarts.
  const uint64_t now_ms = static_cast<uint64_t>(absl::ToUnixMillis(absl::Now()));
  next_request_id_ = ((membership_->local_id() & 0xFFFF) << 48) | ((now_ms & 0xFFFFFFFFFF) << 8);
}

etcd::MemberInfo ToMemberInfo(const peerpb::Member& m) {
  etcd::MemberInfo info;
  info.id = m.id();
  info.name = m.name();
  info.peer_urls.assign(m.peer_urls().begin(), m.peer_urls().end());
  info.client_urls.assign(m.client_urls().begin(), m.client_urls().end());
  info.is_learner = m.is_learner();
  return info;
}

absl::Status ConnectPeer(const peerpb::Member& member, transport::Transport& transport) {
  if (member.peer_urls().empty()) return absl::OkStatus();
  absl::StatusOr<HostPort> address = ParseUrl(member.peer_urls(0));
  if (!address.ok()) return address.status();
  transport.AddPeer(member.id(), address->ToString());
  return absl::OkStatus();
}

absl::Status AddPeers(const Membership& membership, transport::Transport& transport) {
  for (const peerpb::Member& m : membership.List()) {
    if (m.id() == membership.local_id()) continue;
    if (absl::Status s = ConnectPeer(m, transport); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Node>> Node::Create(NodeOptions options, Membership* membership,
                                                   std::unique_ptr<LogStore> log_store) {
  if (options.logger == nullptr) options.logger = spdlog::default_logger();
  std::unique_ptr<Node> node(new Node(std::move(options), membership, std::move(log_store)));
  raft::Storage& storage = node->log_store_->storage();

  // The store restarts from the log's latest snapshot; the entries after it are applied again.
  absl::StatusOr<raftpb::Snapshot> snapshot = storage.Snapshot();
  if (!snapshot.ok()) return snapshot.status();
  uint64_t applied = 0;
  if (!snapshot->data().empty()) {
    if (absl::Status s = node->RestoreState(snapshot->data()); !s.ok()) return s;
    applied = snapshot->metadata().index();
  }
  node->snapshot_index_ = snapshot->metadata().index();
  node->last_snapshot_applied_ = snapshot->metadata().index();
  node->applied_index_ = applied;
  node->read_waiters_.Applied(applied);

  raftpb::HardState hard_state;
  if (absl::Status s = storage.InitialState(&hard_state, &node->conf_state_); !s.ok()) return s;

  node->raft_logger_ = std::make_unique<RaftLogger>(node->options_.logger);
  raft::Config config;
  config.id = membership->local_id();
  config.election_ticks = node->options_.election_ticks;
  config.heartbeat_ticks = 1;
  config.storage = &storage;
  config.applied = applied;
  // PreVote keeps a member that was cut off from disrupting the cluster when it returns
  // (thesis §9.6); CheckQuorum makes a leader that lost its majority step down, so that clients
  // of a partitioned leader get "no leader" instead of waiting forever.
  config.pre_vote = true;
  config.check_quorum = true;
  config.max_inflight_msgs = 256;
  config.max_uncommitted_entries_size_bytes = 64 << 20;
  config.random_seed = node->options_.random_seed != 0 ? node->options_.random_seed
                                                       : membership->local_id() ^ applied;
  config.logger = node->raft_logger_.get();
  absl::StatusOr<std::unique_ptr<raft::RawNode>> raw_node = raft::RawNode::Create(config);
  if (!raw_node.ok()) return raw_node.status();
  node->raw_node_ = std::move(*raw_node);
  node->term_ = hard_state.term();
  node->commit_index_ = hard_state.commit();
  return node;
}

Node::~Node() { Stop(); }

void Node::Start(transport::Transport* transport) {
  transport_ = transport;
  started_ = true;
  apply_thread_ = std::thread([this] { RunApply(); });
  raft_thread_ = std::thread([this] { RunRaft(); });
}

void Node::Stop() {
  {
    absl::MutexLock lock(&inbox_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  stopped_ = true;
  if (raft_thread_.joinable()) raft_thread_.join();
  {
    absl::MutexLock lock(&apply_mu_);
    apply_stopping_ = true;
  }
  if (apply_thread_.joinable()) apply_thread_.join();
  // Whatever still waits can no longer be answered.
  write_waiters_.FailAll(etcd::StoppedError());
  read_waiters_.FailAll(etcd::StoppedError());
  Inbox rest;
  {
    absl::MutexLock lock(&inbox_mu_);
    rest = std::move(inbox_);
  }
  for (StatusPromise& p : rest.reads) p->set_value(etcd::StoppedError());
  for (auto& [ctx, read] : pending_reads_) {
    for (StatusPromise& p : read.waiters) p->set_value(etcd::StoppedError());
  }
  pending_reads_.clear();
}

uint64_t Node::NextRequestId() { return ++next_request_id_; }

absl::Status Node::DeadlineError() const {
  return leader_id_.load() == 0 ? etcd::NoLeaderError() : etcd::TimeoutError();
}

absl::StatusOr<kvpb::Response> Node::Write(kvpb::Request request, absl::Time deadline) {
  if (stopped_.load()) return etcd::StoppedError();
  if (static_cast<int64_t>(request.ByteSizeLong()) > etcd::kMaxRequestBytes) {
    return etcd::RequestTooLargeError();
  }
  if (leader_id_.load() == 0) return etcd::NoLeaderError();
  if (commit_index_.load() > applied_index_.load() + options_.max_apply_backlog) {
    return etcd::TooManyRequestsError();
  }
  const uint64_t id = NextRequestId();
  request.set_id(id);
  peerpb::Proposal proposal;
  proposal.set_request_id(id);
  proposal.set_kv_request(request.SerializeAsString());
  std::future<WriteResult> result = write_waiters_.Register(id);
  {
    absl::MutexLock lock(&inbox_mu_);
    if (stopping_) {
      write_waiters_.Forget(id);
      return etcd::StoppedError();
    }
    if (inbox_.proposals.size() >= options_.max_pending_proposals) {
      write_waiters_.Forget(id);
      return etcd::TooManyRequestsError();
    }
    inbox_.proposals.emplace_back(id, proposal.SerializeAsString());
  }
  return AwaitApplied(id, std::move(result), deadline);
}

WriteResult Node::AwaitApplied(uint64_t id, std::future<WriteResult> result, absl::Time deadline) {
  if (result.wait_until(absl::ToChronoTime(deadline)) != std::future_status::ready) {
    write_waiters_.Forget(id);
    return DeadlineError();
  }
  return result.get();
}

absl::Status Node::WaitLinearizable(absl::Time deadline) {
  if (stopped_.load()) return etcd::StoppedError();
  if (leader_id_.load() == 0) return etcd::NoLeaderError();
  auto promise = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> done = promise->get_future();
  {
    absl::MutexLock lock(&inbox_mu_);
    if (stopping_) return etcd::StoppedError();
    if (inbox_.reads.size() >= options_.max_pending_proposals) {
      return etcd::TooManyRequestsError();
    }
    inbox_.reads.push_back(std::move(promise));
  }
  if (done.wait_until(absl::ToChronoTime(deadline)) != std::future_status::ready) {
    return DeadlineError();
  }
  return done.get();
}

void Node::Read(absl::FunctionRef<void(const kv::Store&)> fn) {
  absl::ReaderMutexLock lock(&store_mu_);
  fn(store_);
}

etcd::NodeInfo Node::Info() {
  etcd::NodeInfo info;
  info.cluster_id = membership_->cluster_id();
  info.member_id = membership_->local_id();
  info.leader_id = leader_id_.load();
  info.raft_term = term_.load();
  info.commit_index = commit_index_.load();
  info.applied_index = applied_index_.load();
  {
    absl::ReaderMutexLock lock(&store_mu_);
    info.db_size_bytes = store_.size_bytes();
  }
  for (const peerpb::Member& m : membership_->List()) {
    if (m.id() == info.member_id) info.is_learner = m.is_learner();
    info.members.push_back(ToMemberInfo(m));
  }
  return info;
}

void Node::Receive(std::vector<raftpb::Message> messages) {
  absl::MutexLock lock(&inbox_mu_);
  for (raftpb::Message& m : messages) {
    // Dropping is safe: raft retransmits whatever a peer does not acknowledge.
    if (inbox_.messages.size() >= options_.max_pending_messages) {
      log_.debug("raft inbox full; dropping a {} from {:x}", raftpb::MessageType_Name(m.msg_type()),
                 m.from());
      continue;
    }
    inbox_.messages.push_back(std::move(m));
  }
}

void Node::ReportUnreachable(uint64_t peer_id) {
  absl::MutexLock lock(&inbox_mu_);
  for (uint64_t id : inbox_.unreachable) {
    if (id == peer_id) return;
  }
  inbox_.unreachable.push_back(peer_id);
}

void Node::ReportSnapshot(uint64_t peer_id, bool delivered) {
  absl::MutexLock lock(&inbox_mu_);
  inbox_.snapshot_reports.emplace_back(peer_id, delivered);
}

}  // namespace raftkv::server
