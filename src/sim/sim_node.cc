#include "sim/sim_node.h"

#include <utility>

#include "fmt/format.h"
#include "kv/rocksdb_engine.h"
#include "node/durable_log_store.h"
#include "node/errors.h"

namespace raftkv::sim {
namespace {

// Answers that certainly mean the request was never proposed: the client may send it again.
bool NotProposed(const absl::Status& s) {
  return s == node::NoLeaderError() || s == node::LeaderChangedError() ||
         s == node::TooManyRequestsError();
}

// Answers after which the request may still be applied.
bool OutcomeUnknown(const absl::Status& s) {
  return s == node::TimeoutError() || s == node::TimeoutDueToLeaderFailError() ||
         s == node::StoppedError();
}

}  // namespace

void SimNode::SimNetwork::Send(std::vector<raftpb::Message> messages) {
  for (const raftpb::Message& m : messages) host_->SendRaftMessage(m);
}

SimNode::SimNode(uint64_t id, uint64_t seed, const NodeOptions& options,
                 std::vector<peerpb::Member> founders, NodeHost* host, SafetyChecker* checker,
                 Trace* trace)
    : id_(id),
      seed_(seed),
      options_(options),
      founders_(std::move(founders)),
      host_(host),
      checker_(checker),
      trace_(trace),
      network_(host) {
  if (durable()) {
    // The disk's own random source (torn writes) is derived from the node's seed, so a run
    // stays a function of the run seed.
    disk_ = std::make_unique<io::FaultInjectionEnv>(seed_ ^ 0xd15cd15cd15cd15cULL);
  } else {
    log_store_ = std::make_unique<node::MemoryLogStore>(founders_);
  }
  observer_.node = id_;
  observer_.checker = checker_;
  observer_.trace = trace_;
  observer_.now_us = [host] { return host->now_us(); };
}

SimNode::~SimNode() = default;

absl::Status SimNode::OpenDisk() {
  storage::DurableStorageOptions options;
  options.wal.segment_bytes = options_.wal_segment_bytes;
  // The real recovery code: torn tails cut off, half-finished snapshots cleaned up.
  auto opened = node::DurableLogStore::Open(disk_.get(), "/data", founders_, options);
  if (!opened.ok()) return opened.status();
  log_store_ = std::move(*opened);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<node::StoreApplier>> SimNode::OpenState() const {
  if (options_.engine == EngineKind::kMemory) return std::make_unique<node::StoreApplier>();
  // Compaction walks a few revision log records per entry, far fewer than a server's, so that the
  // simulator's histories (hundreds of writes) are compacted over several entries and crashes,
  // restarts and snapshots land in the middle of a walk.
  kv::RocksDbEngine::Options engine_options;
  engine_options.compaction_records_per_commit = 4;
  absl::StatusOr<std::unique_ptr<kv::RocksDbEngine>> engine =
      kv::RocksDbEngine::Open(fmt::format("{}/n{}", options_.engine_root, id_), engine_options);
  if (!engine.ok()) return engine.status();
  // No checkpoint installer: the node's snapshots carry the state inline, which the simulated
  // network can deliver.
  return node::StoreApplier::Open(*std::move(engine), /*checkpoints=*/nullptr);
}

void SimNode::ObserveFoundingLog() {
  // The founding log is written when the disk is created, not through a Ready: the checker
  // learns of it here, as persisted and synced.
  raft::Storage& storage = log_store_->storage();
  raftpb::HardState hard_state;
  raftpb::ConfState conf_state;
  if (!storage.InitialState(&hard_state, &conf_state).ok()) return;
  if (storage.LastIndex() >= storage.FirstIndex()) {
    auto entries = storage.Entries(storage.FirstIndex(), storage.LastIndex() + 1, UINT64_MAX);
    if (entries.ok()) {
      checker_->ObservePersistEntries(id_, hard_state.term(), false, *entries);
    }
  }
  checker_->ObservePersistHardState(id_, hard_state, /*synced=*/true);
  checker_->ObserveSync(id_);
}

node::DriverOptions SimNode::DriverOptionsForThisStart() const {
  node::DriverOptions o;
  o.id = id_;
  // Published through the log once there is a leader, as the server does.
  o.name = fmt::format("n{}", id_);
  o.client_urls = {fmt::format("http://n{}:2379", id_)};
  o.election_ticks = options_.election_ticks;
  o.heartbeat_ticks = options_.heartbeat_ticks;
  o.pre_vote = options_.pre_vote;
  o.check_quorum = options_.check_quorum;
  o.max_size_per_msg_bytes = options_.max_size_per_msg_bytes;
  o.max_inflight_msgs = options_.max_inflight_msgs;
  // A restarted process draws new election timeouts, still fixed by the run's seed.
  o.random_seed = seed_ * 0x9e3779b97f4a7c15ULL + restarts_;
  o.snapshot_count = options_.snapshot_interval_entries;
  o.snapshot_catchup_entries = options_.compaction_keep_entries;
  // An entry proposed before a restart must never complete a request made after it.
  o.request_id_base = restarts_ << 32;
  return o;
}

absl::Status SimNode::Start() {
  if (durable() && log_store_ == nullptr) {
    if (absl::Status s = OpenDisk(); !s.ok()) return s;
  }
  if (restarts_ == 0) ObserveFoundingLog();
  raftpb::HardState hard_state;
  raftpb::ConfState conf_state;
  if (absl::Status s = log_store_->storage().InitialState(&hard_state, &conf_state); !s.ok()) {
    return s;
  }
  observer_.committed_entries.clear();
  observer_.snapshot.reset();
  observed_log_ =
      std::make_unique<ObservedLogStore>(log_store_.get(), !durable(), &observer_, hard_state);
  absl::StatusOr<std::unique_ptr<node::StoreApplier>> state = OpenState();
  if (!state.ok()) {
    observed_log_.reset();
    return state.status();
  }
  applier_ = std::make_unique<ObservedApplier>(
      *std::move(state), &observer_, [this](uint64_t index, const kvpb::Request& request) {
        host_->OnAppliedRequest(id_, index, request);
      });
  auto driver = node::Driver::Create(DriverOptionsForThisStart(), observed_log_.get(),
                                     applier_.get(), &network_);
  if (!driver.ok()) {
    applier_.reset();
    observed_log_.reset();
    return driver.status();
  }
  driver_ = std::move(*driver);
  applied_at_start_ = applier_->applied_index();
  applier_->set_started();
  if (restarts_ > 0) {
    checker_->ObserveRestart(id_, driver_->commit(), applier_->applied_index(), applier_->Digest());
    trace_->Add(TraceEvent{.at_us = host_->now_us(), .kind = TraceKind::kRestart, .a = id_});
  }
  ++restarts_;
  Process();
  return absl::OkStatus();
}

void SimNode::Crash() {
  trace_->Add(TraceEvent{.at_us = host_->now_us(), .kind = TraceKind::kCrash, .a = id_});
  // Clients learn nothing: their requests simply time out, as with a real crash.
  if (driver_ != nullptr) {
    snapshots_taken_before_ += driver_->snapshots_taken();
    snapshots_installed_before_ += driver_->snapshots_installed();
  }
  driver_.reset();
  applier_.reset();
  observed_log_.reset();
  if (durable()) {
    // The process dies (its file handles go stale), then the power: unsynced bytes and names
    // vanish and the last write may be torn.
    log_store_.reset();
    disk_->Crash(/*tear_last_write=*/true);
  }
}

uint64_t SimNode::snapshots_taken() const {
  return snapshots_taken_before_ + (driver_ != nullptr ? driver_->snapshots_taken() : 0);
}

uint64_t SimNode::snapshots_installed() const {
  return snapshots_installed_before_ + (driver_ != nullptr ? driver_->snapshots_installed() : 0);
}

void SimNode::Process() {
  if (driver_ == nullptr) return;
  if (absl::Status s = driver_->Process(); !s.ok()) {
    // The decorators reported what failed; a real server stops here, and nothing more may
    // leave the node.
    checker_->Report(kLogMatching, fmt::format("node {} stopped: {}", id_, s.ToString()), {id_});
    Crash();
  }
}

void SimNode::Tick() {
  driver_->Tick();
  Process();
}

void SimNode::Deliver(const raftpb::Message& message) {
  driver_->Step(message);
  Process();
}

bool SimNode::ProposeWrite(kvpb::Request request) {
  if (role() != raft::StateRole::kLeader) return false;
  // The batch is proposed in Process(); a refusal completes the write there.
  auto refused = std::make_shared<bool>(false);
  driver_->Write(std::move(request), options_.request_timeout_ticks,
                 [refused](node::WriteResult result) {
                   if (!result.ok() && NotProposed(result.status())) *refused = true;
                 });
  Process();
  return !*refused;
}

void SimNode::Campaign() {
  driver_->Campaign();
  Process();
}

absl::Status SimNode::ProposeConfChange(const raftpb::ConfChangeV2& change) {
  absl::Status s = driver_->ProposeConfChange(change);
  Process();
  return s;
}

void SimNode::TransferLeader(uint64_t transferee) {
  driver_->TransferLeader(transferee);
  Process();
}

void SimNode::ReportSnapshot(uint64_t to, bool delivered) {
  driver_->ReportSnapshot(to, delivered);
  Process();
}

void SimNode::ReportUnreachable(uint64_t to) {
  driver_->ReportUnreachable(to);
  Process();
}

void SimNode::Reply(ClientReply reply) {
  reply.served_term = up() ? term() : 0;
  reply.served_at_us = host_->now_us();
  host_->ReplyToClient(id_, reply);
}

void SimNode::Refuse(const ClientRequest& request) {
  Reply(ClientReply{.client_id = request.client_id,
                    .request_id = request.request_id,
                    .code = ClientReply::Code::kNotProposed,
                    .leader_hint = up() ? leader() : 0});
}

void SimNode::HandleClientRequest(const ClientRequest& request) {
  // Only the leader serves clients; the others point at the leader they know.
  if (role() != raft::StateRole::kLeader) return Refuse(request);
  if (request.renew_lease_id.has_value()) {
    driver_->RenewLease(
        *request.renew_lease_id, options_.request_timeout_ticks,
        [this, request](absl::StatusOr<int64_t> ttl) { CompleteRenew(request, ttl); });
  } else if (request.read_index_key.has_value()) {
    driver_->ReadIndex(options_.request_timeout_ticks,
                       [this, request](absl::Status s) { CompleteRead(request, s); });
  } else {
    driver_->Write(request.request, options_.request_timeout_ticks,
                   [this, request](node::WriteResult r) { CompleteWrite(request, std::move(r)); });
  }
  Process();
}

void SimNode::CompleteWrite(const ClientRequest& request, node::WriteResult result) {
  ClientReply reply{.client_id = request.client_id, .request_id = request.request_id};
  if (result.ok()) {
    // Completed from inside ApplyRequest: the entry applied last is this request's.
    const raftpb::Entry* entry = applier_->last_applied_entry();
    reply.code = ClientReply::Code::kOk;
    reply.response = *std::move(result);
    if (entry != nullptr) {
      reply.index = entry->index();
      reply.term = entry->term();
      reply.entry_data = entry->data();
    }
  } else if (NotProposed(result.status())) {
    reply.code = ClientReply::Code::kNotProposed;
    reply.leader_hint = leader();
  } else if (OutcomeUnknown(result.status())) {
    reply.code = ClientReply::Code::kUnknown;
  } else {
    // The store's own refusal (an etcd error), which changes nothing but the applied index.
    reply.code = ClientReply::Code::kFailed;
  }
  Reply(std::move(reply));
}

void SimNode::CompleteRead(const ClientRequest& request, const absl::Status& status) {
  ClientReply reply{.client_id = request.client_id, .request_id = request.request_id};
  if (!status.ok()) {
    // A read changes nothing: any failure may be retried.
    reply.code = ClientReply::Code::kNotProposed;
    reply.leader_hint = leader();
    return Reply(std::move(reply));
  }
  // Runs inside Process() once the confirmed read index is applied here: the state now holds
  // every write acknowledged before the read arrived (thesis §6.4).
  etcdserverpb::RangeRequest range;
  range.set_key(*request.read_index_key);
  auto answer = applier_->store().Range(range);
  if (!answer.ok()) {
    reply.code = ClientReply::Code::kFailed;
    return Reply(std::move(reply));
  }
  reply.code = ClientReply::Code::kOk;
  reply.range = *std::move(answer);
  Reply(std::move(reply));
}

void SimNode::CompleteRenew(const ClientRequest& request, const absl::StatusOr<int64_t>& ttl) {
  ClientReply reply{.client_id = request.client_id, .request_id = request.request_id};
  if (!ttl.ok()) {
    // Not renewed (not the leader, or it has not taken over lease expiry in time).
    reply.code = ClientReply::Code::kNotProposed;
    reply.leader_hint = leader();
    return Reply(std::move(reply));
  }
  reply.code = ClientReply::Code::kOk;
  reply.renewed_ttl = *ttl;
  Reply(std::move(reply));
}

}  // namespace raftkv::sim
