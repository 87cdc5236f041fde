#include "sim/sim_node.h"

#include <utility>

#include "fmt/format.h"

namespace raftkv::sim {

SimNode::SimNode(uint64_t id, uint64_t seed, const NodeOptions& options, NodeHost* host,
                 SafetyChecker* checker, Trace* trace)
    : id_(id), seed_(seed), options_(options), host_(host), checker_(checker), trace_(trace) {
  if (durable()) {
    // The disk's own random source (torn writes) is derived from the node's seed, so a run
    // stays a function of the run seed.
    disk_ = std::make_unique<io::FaultInjectionEnv>(seed_ ^ 0xd15cd15cd15cd15cULL);
  } else {
    memory_ = std::make_unique<raft::MemoryStorage>();
    storage_ = memory_.get();
  }
}

absl::Status SimNode::OpenDurable() {
  storage::DurableStorageOptions options;
  options.wal.segment_bytes = options_.wal_segment_bytes;
  auto opened = storage::DurableStorage::Open(disk_.get(), "/data", options);
  if (!opened.ok()) return opened.status();
  durable_ = std::move(*opened);
  storage_ = durable_.get();
  return absl::OkStatus();
}

absl::Status SimNode::Bootstrap(const raftpb::ConfState& conf_state) {
  if (!durable()) return memory_->Bootstrap(conf_state);
  if (absl::Status s = OpenDurable(); !s.ok()) return s;
  return durable_->Bootstrap(conf_state);
}

absl::Status SimNode::Start() {
  if (durable() && durable_ == nullptr) {
    // The real recovery code: torn tails cut off, half-finished snapshots cleaned up.
    if (absl::Status s = OpenDurable(); !s.ok()) return s;
  }
  raftpb::HardState hard_state;
  raftpb::ConfState conf_state;
  if (absl::Status s = storage_->InitialState(&hard_state, &conf_state); !s.ok()) return s;
  auto snapshot = storage_->Snapshot();
  if (!snapshot.ok()) return snapshot.status();

  state_machine_ = std::make_unique<KvStateMachine>();
  const uint64_t snapshot_index = snapshot->metadata().index();
  if (snapshot_index > 0 && !snapshot->data().empty()) {
    if (absl::Status s = state_machine_->Restore(snapshot->data()); !s.ok()) return s;
  }
  applied_ = snapshot_index;
  last_snapshot_index_ = snapshot_index;
  conf_state_ = conf_state;
  hard_state_ = hard_state;
  soft_state_ = raft::SoftState{};
  leader_at_previous_ready_ = false;

  raft::Config config;
  config.id = id_;
  config.election_ticks = options_.election_ticks;
  config.heartbeat_ticks = options_.heartbeat_ticks;
  config.storage = storage_;
  config.applied = applied_;
  config.max_size_per_msg_bytes = options_.max_size_per_msg_bytes;
  config.max_inflight_msgs = options_.max_inflight_msgs;
  config.check_quorum = options_.check_quorum;
  config.pre_vote = options_.pre_vote;
  // A restarted process draws new election timeouts, still fixed by the run's seed.
  config.random_seed = seed_ * 0x9e3779b97f4a7c15ULL + restarts_;
  config.logger = &logger_;
  auto raw = raft::RawNode::Create(config);
  if (!raw.ok()) return raw.status();
  raw_ = std::move(*raw);
  if (restarts_ > 0) {
    checker_->ObserveRestart(id_, raw_->GetStatus().hard_state.commit(), applied_,
                             state_machine_->Digest());
    trace_->Add(TraceEvent{.at_us = host_->now_us(), .kind = TraceKind::kRestart, .a = id_});
  }
  ++restarts_;
  HandleReadies();
  return absl::OkStatus();
}

void SimNode::Crash() {
  trace_->Add(TraceEvent{.at_us = host_->now_us(), .kind = TraceKind::kCrash, .a = id_});
  raw_.reset();
  state_machine_.reset();
  FailPendingRequests();
  if (durable()) {
    // The process dies (its file handles go stale), then the power: unsynced bytes and names
    // vanish and the last write may be torn.
    storage_ = nullptr;
    durable_.reset();
    disk_->Crash(/*tear_last_write=*/true);
  }
}

void SimNode::FailPendingRequests() {
  // Clients learn nothing: their requests simply time out, as with a real crash.
  pending_writes_.clear();
  pending_reads_.clear();
}

void SimNode::Tick() {
  raw_->Tick();
  HandleReadies();
}

void SimNode::Deliver(const raftpb::Message& message) {
  // Errors here are the peer's problem (stale or unknown sender); the core already ignored it.
  (void)raw_->Step(message);
  HandleReadies();
}

absl::Status SimNode::Propose(const std::string& data) {
  absl::Status s = raw_->Propose(data);
  HandleReadies();
  return s;
}

absl::Status SimNode::Campaign() {
  absl::Status s = raw_->Campaign();
  HandleReadies();
  return s;
}

absl::Status SimNode::ProposeConfChange(const raftpb::ConfChangeV2& change) {
  absl::Status s = raw_->ProposeConfChange(change);
  HandleReadies();
  return s;
}

void SimNode::TransferLeader(uint64_t transferee) {
  raw_->TransferLeader(transferee);
  HandleReadies();
}

void SimNode::ReportSnapshot(uint64_t to, raft::SnapshotStatus status) {
  raw_->ReportSnapshot(to, status);
  HandleReadies();
}

void SimNode::ReportUnreachable(uint64_t to) {
  raw_->ReportUnreachable(to);
  HandleReadies();
}

raft::Status SimNode::GetStatus() const { return raw_->GetStatus(); }

void SimNode::HandleClientRequest(const ClientRequest& request) {
  auto not_leader = [&] {
    host_->ReplyToClient(id_, ClientReply{.client_id = request.client_id,
                                          .request_id = request.request_id,
                                          .code = ClientReply::Code::kNotLeader,
                                          .leader_hint = soft_state_.leader});
  };
  if (soft_state_.role != raft::StateRole::kLeader) {
    not_leader();
    return;
  }
  if (request.command.kind == CommandKind::kGet && request.read_index) {
    const std::string ctx = fmt::format("{}", request.request_id);
    pending_reads_[ctx] = PendingRead{request, 0};
    raw_->ReadIndex(ctx);
    HandleReadies();
    return;
  }
  if (!raw_->Propose(EncodeCommand(request.command)).ok()) {
    not_leader();
    return;
  }
  pending_writes_[{request.command.client_id, request.command.seq}] = request;
  HandleReadies();
}

void SimNode::HandleReadies() {
  while (raw_ != nullptr && raw_->HasReady()) HandleReady(raw_->GetReady());
}

void SimNode::HandleReady(raft::Ready ready) {
  const TimeUs now = host_->now_us();
  if (ready.hard_state.has_value()) hard_state_ = *ready.hard_state;
  bool became_leader = false;
  if (ready.soft_state.has_value()) {
    const bool was_leader = soft_state_.role == raft::StateRole::kLeader;
    soft_state_ = *ready.soft_state;
    became_leader = !was_leader && soft_state_.role == raft::StateRole::kLeader;
    if (was_leader && soft_state_.role != raft::StateRole::kLeader) {
      // A deposed leader's read requests will never be confirmed; their clients retry.
      pending_reads_.clear();
    }
    trace_->Add(TraceEvent{.at_us = now,
                           .kind = TraceKind::kRole,
                           .a = id_,
                           .b = hard_state_.term(),
                           .c = static_cast<uint64_t>(soft_state_.role),
                           .d = soft_state_.leader});
    checker_->ObserveRole(id_, hard_state_.term(), soft_state_.role);
  }
  const bool is_leader = soft_state_.role == raft::StateRole::kLeader;
  const bool leader_since_previous = is_leader && leader_at_previous_ready_ && !became_leader;

  // 1. Messages that do not wait for persistence (the leader's appends, thesis §10.2.1).
  for (const raftpb::Message& m : ready.messages) host_->SendRaftMessage(m);

  // 2. Persist: snapshot, entries, hard state.
  if (!Persist(ready, leader_since_previous)) {
    // A real server stops when its disk fails (the run already reports the failure); nothing
    // from this Ready may leave the node, and the RawNode must not be asked for more.
    Crash();
    return;
  }
  if (became_leader) checker_->ObserveLeaderLog(id_, hard_state_.term());

  // 3. Messages that promise something about durable state (votes, append responses).
  for (const raftpb::Message& m : ready.persisted_messages) host_->SendRaftMessage(m);

  // 4. Apply.
  if (ready.snapshot.has_value() && ready.snapshot->metadata().index() > applied_) {
    const auto& snapshot = *ready.snapshot;
    if (absl::Status s = state_machine_->Restore(snapshot.data()); !s.ok()) {
      checker_->Report(kStateMachineSafety,
                       fmt::format("node {} cannot restore snapshot {}: {}", id_,
                                   snapshot.metadata().index(), s.ToString()),
                       {id_});
    }
    applied_ = snapshot.metadata().index();
    last_snapshot_index_ = applied_;
    conf_state_ = snapshot.metadata().conf_state();
    ++snapshots_installed_;
    checker_->ObserveApplySnapshot(id_, snapshot.metadata(), state_machine_->Digest());
  }
  for (const raftpb::Entry& entry : ready.committed_entries) ApplyEntry(entry);
  for (const raft::ReadState& rs : ready.read_states) {
    auto it = pending_reads_.find(rs.request_ctx);
    if (it != pending_reads_.end()) it->second.read_index = std::max<uint64_t>(rs.index, 1);
  }
  ServeReads();
  MaybeSnapshot();

  leader_at_previous_ready_ = is_leader;
  raw_->Advance();
}

bool SimNode::Persist(const raft::Ready& ready, bool leader_since_previous) {
  const TimeUs now = host_->now_us();
  auto storage_failed = [&](const char* what, const absl::Status& s) {
    checker_->Report(kLogMatching,
                     fmt::format("node {} could not persist {}: {}", id_, what, s.ToString()),
                     {id_});
  };
  if (ready.snapshot.has_value() && ready.snapshot->metadata().index() > 0) {
    const auto& snapshot = *ready.snapshot;
    absl::Status s =
        durable() ? durable_->ApplySnapshot(snapshot) : memory_->ApplySnapshot(snapshot);
    if (s.ok()) {
      checker_->ObservePersistSnapshot(id_, snapshot.metadata());
    } else if (durable() && !raft::IsSnapshotOutOfDate(s)) {
      storage_failed("a snapshot", s);
      return false;
    }
    trace_->Add(TraceEvent{.at_us = now,
                           .kind = TraceKind::kSnapshot,
                           .a = id_,
                           .b = snapshot.metadata().index(),
                           .c = snapshot.metadata().term()});
  }
  if (durable()) {
    if (!ready.entries.empty() || ready.hard_state.has_value()) {
      absl::Status s = durable_->Save(ready.hard_state, ready.entries, ready.must_sync);
      if (!s.ok()) {
        storage_failed("entries and hard state", s);
        return false;
      }
    }
  } else {
    if (!ready.entries.empty()) {
      absl::Status s = memory_->Append(ready.entries);
      if (!s.ok()) {
        checker_->Report(kLogMatching,
                         fmt::format("node {} could not append entries from index {}: {}", id_,
                                     ready.entries.front().index(), s.ToString()),
                         {id_});
      }
    }
    if (ready.hard_state.has_value()) memory_->SetHardState(*ready.hard_state);
  }
  if (!ready.entries.empty()) {
    checker_->ObservePersistEntries(id_, hard_state_.term(), leader_since_previous, ready.entries);
  }
  // MemoryStorage loses nothing; DurableStorage may lose a commit-only hard state written
  // without a sync until the next synced Save, which makes every earlier write durable.
  const bool synced = !durable() || ready.must_sync;
  if (ready.hard_state.has_value()) {
    checker_->ObservePersistHardState(id_, *ready.hard_state, synced);
  }
  if (synced) checker_->ObserveSync(id_);
  if (!ready.entries.empty() || ready.hard_state.has_value()) {
    trace_->Add(TraceEvent{.at_us = now,
                           .kind = TraceKind::kPersist,
                           .a = id_,
                           .b = hard_state_.term(),
                           .c = hard_state_.commit(),
                           .d = ready.entries.empty() ? 0 : ready.entries.front().index(),
                           .e = ready.entries.empty() ? 0 : ready.entries.back().index()});
  }
  return true;
}

absl::StatusOr<raftpb::Snapshot> SimNode::CreateSnapshot(uint64_t index, std::string data) {
  if (durable()) return durable_->CreateSnapshot(index, &conf_state_, std::move(data));
  return memory_->CreateSnapshot(index, &conf_state_, std::move(data));
}

absl::Status SimNode::Compact(uint64_t index) {
  if (durable()) return durable_->Compact(index);
  return memory_->Compact(index);
}

void SimNode::ApplyEntry(const raftpb::Entry& entry) {
  if (entry.index() <= applied_) return;  // already covered by a restored snapshot
  switch (entry.entry_type()) {
    case raftpb::ENTRY_NORMAL: {
      if (entry.data().empty()) break;  // a new leader's no-op entry
      auto command = DecodeCommand(entry.data());
      if (!command.ok()) {
        checker_->Report(kStateMachineSafety,
                         fmt::format("node {} applied undecodable entry {}: {}", id_, entry.index(),
                                     command.status().ToString()),
                         {id_});
        break;
      }
      const CommandResult result = state_machine_->Apply(*command);
      host_->OnApplied(id_, entry);
      auto it = pending_writes_.find({command->client_id, command->seq});
      if (it != pending_writes_.end()) {
        host_->ReplyToClient(id_, ClientReply{.client_id = it->second.client_id,
                                              .request_id = it->second.request_id,
                                              .code = ClientReply::Code::kOk,
                                              .result = result,
                                              .index = entry.index(),
                                              .term = entry.term(),
                                              .entry_data = entry.data()});
        pending_writes_.erase(it);
      }
      break;
    }
    case raftpb::ENTRY_CONF_CHANGE: {
      raftpb::ConfChange change;
      if (change.ParseFromString(entry.data())) conf_state_ = raw_->ApplyConfChange(change);
      break;
    }
    case raftpb::ENTRY_CONF_CHANGE_V2: {
      raftpb::ConfChangeV2 change;
      if (change.ParseFromString(entry.data())) conf_state_ = raw_->ApplyConfChange(change);
      break;
    }
    default:
      break;
  }
  applied_ = entry.index();
  trace_->Add(TraceEvent{.at_us = host_->now_us(),
                         .kind = TraceKind::kApply,
                         .a = id_,
                         .b = entry.index(),
                         .c = entry.term()});
  checker_->ObserveApply(id_, entry, state_machine_->Digest());
}

void SimNode::ServeReads() {
  for (auto it = pending_reads_.begin(); it != pending_reads_.end();) {
    const PendingRead& read = it->second;
    if (read.read_index == 0 || read.read_index > applied_) {
      ++it;
      continue;
    }
    // Applied state is at least as new as the commit index the leader confirmed when the read
    // arrived, so serving it locally is linearizable (thesis §6.4).
    ClientReply reply{.client_id = read.request.client_id,
                      .request_id = read.request.request_id,
                      .code = ClientReply::Code::kOk};
    reply.result.value = state_machine_->Read(read.request.command.key);
    host_->ReplyToClient(id_, reply);
    it = pending_reads_.erase(it);
  }
}

void SimNode::MaybeSnapshot() {
  if (options_.snapshot_interval_entries == 0 ||
      applied_ < last_snapshot_index_ + options_.snapshot_interval_entries) {
    return;
  }
  auto snapshot = CreateSnapshot(applied_, state_machine_->Serialize());
  if (!snapshot.ok()) return;  // a newer snapshot arrived meanwhile
  last_snapshot_index_ = applied_;
  ++snapshots_taken_;
  if (applied_ > options_.compaction_keep_entries) {
    const uint64_t compact_index = applied_ - options_.compaction_keep_entries;
    if (compact_index > storage_->FirstIndex()) (void)Compact(compact_index);
  }
}

}  // namespace raftkv::sim
