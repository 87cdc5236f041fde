// The node driver's Ready loop: persist, send, apply, advance, snapshot.
#include "node/driver.h"

#include <algorithm>
#include <utility>

#include "fmt/format.h"
#include "node/errors.h"
#include "node/state_reference.h"
#include "raftkv/peerpb/peer.pb.h"

namespace raftkv::node {

Driver::Driver(DriverOptions options, LogStore* log_store, Applier* applier, Network* network)
    : options_(std::move(options)),
      log_store_(log_store),
      applier_(applier),
      network_(network),
      leases_(options_.tick_millis) {}

Driver::~Driver() = default;

absl::StatusOr<std::unique_ptr<Driver>> Driver::Create(DriverOptions options, LogStore* log_store,
                                                       Applier* applier, Network* network) {
  std::unique_ptr<Driver> driver(new Driver(std::move(options), log_store, applier, network));
  if (absl::Status s = driver->Init(); !s.ok()) return s;
  return driver;
}

absl::Status Driver::Init() {
  raft::Storage& storage = log_store_->storage();
  // An applier on disk reopens at its own applied index; one in memory starts empty. Either way
  // the state restarts from the newer of itself and the log's latest snapshot, and the entries
  // after that are applied again.
  absl::StatusOr<raftpb::Snapshot> snapshot = storage.Snapshot();
  if (!snapshot.ok()) return snapshot.status();
  if (!snapshot->data().empty() && snapshot->metadata().index() > applier_->applied_index()) {
    const uint64_t before = applier_->applied_index();
    if (absl::Status s = applier_->Restore(snapshot->metadata().index(), snapshot->data());
        !s.ok()) {
      return s;
    }
    Log(raft::LogLevel::kInfo,
        fmt::format("the state was at index {}, behind the log's snapshot at index {}: restored "
                    "it from the snapshot (now at index {})",
                    before, snapshot->metadata().index(), applier_->applied_index()));
  }
  CountSnapshotFrom(snapshot->metadata().index());
  log_applied_ = snapshot->metadata().index();
  if (absl::Status s = storage.InitialState(&hard_state_, &conf_state_); !s.ok()) return s;
  // The log must hold every entry after the applied one (see Applier::Sync), and every entry up
  // to it: an entry is applied only after it was synced into this log. A state behind the log's
  // first entry, or ahead of its last, belongs to another log. A state ahead of the recovered
  // commit index is normal: a change of the commit index alone is not synced (the leader
  // repeats it), so a power cut may lose it while the state made those entries durable. And a
  // state installed from a checkpoint that a snapshot's reference names may be ahead of the
  // whole log, by entries the sender's cluster had committed.
  const uint64_t applied = applier_->applied_index();
  uint64_t vouched_for = std::max(hard_state_.commit(), storage.LastIndex());
  if (applied > vouched_for) {
    vouched_for = std::max(vouched_for, ReferencedCheckpoint(snapshot->data()).value_or(0));
  }
  if (applied < snapshot->metadata().index() || applied + 1 < storage.FirstIndex() ||
      applied > vouched_for) {
    return absl::FailedPreconditionError(fmt::format(
        "the applied state is at index {} but the raft log holds a snapshot at {}, entries from "
        "{} to {} and commits up to {}: the state and the log do not belong together (was one "
        "of them replaced or restored from another backup?)",
        applied, snapshot->metadata().index(), storage.FirstIndex(), storage.LastIndex(),
        hard_state_.commit()));
  }

  raft::Config config;
  config.id = options_.id;
  config.election_ticks = options_.election_ticks;
  config.heartbeat_ticks = options_.heartbeat_ticks;
  config.storage = &storage;
  // The core starts from the snapshot, not from the applied state: it rebuilds its
  // configuration from the snapshot's and then every later configuration change, so the
  // entries after the snapshot come back once more (ApplyEntry hands the core the changes among
  // them and skips the rest for a state that already holds them).
  config.applied = snapshot->metadata().index();
  // PreVote keeps a member that was cut off from disrupting the cluster when it returns
  // (thesis §9.6); CheckQuorum makes a leader that lost its majority step down, so that clients
  // of a partitioned leader get "no leader" instead of waiting forever.
  config.pre_vote = options_.pre_vote;
  config.check_quorum = options_.check_quorum;
  config.max_size_per_msg_bytes = options_.max_size_per_msg_bytes;
  config.max_inflight_msgs = options_.max_inflight_msgs;
  config.max_uncommitted_entries_size_bytes = options_.max_uncommitted_entries_size_bytes;
  config.random_seed = options_.random_seed;
  config.logger = options_.logger;
  absl::StatusOr<std::unique_ptr<raft::RawNode>> raw = raft::RawNode::Create(config);
  if (!raw.ok()) return raw.status();
  raw_ = std::move(*raw);
  if (applier_->members().size() > 0) network_->FollowMembers(applier_->members());
  return absl::OkStatus();
}

void Driver::Log(raft::LogLevel level, std::string_view message) const {
  if (options_.logger != nullptr) options_.logger->Log(level, message);
}

absl::Status Driver::Fail(absl::Status status) {
  failed_ = true;
  Log(raft::LogLevel::kError,
      fmt::format("member {:x} must stop: {}", options_.id, status.ToString()));
  return status;
}

void Driver::Tick() {
  if (failed_) return;
  ++ticks_;
  raw_->Tick();
  ExpireWrites();
  ExpireReads();
  if (read_round_.has_value() &&
      ticks_ - read_round_->issued_tick >= static_cast<uint64_t>(options_.read_retry_ticks)) {
    // Unanswered: the leader may have changed and dropped it. The reads join a fresh round.
    for (ReadWaiter& w : read_round_->waiters) next_reads_.push_back(std::move(w));
    read_round_.reset();
  }
  ExpireLeases();
  MaybePublishAttributes();
  // A compaction frees its storage in steps inside the entries applied after it; a member that
  // applies none goes on here, a step per tick at least.
  ContinueCompaction();
}

bool Driver::ContinueCompaction() { return !failed_ && applier_->ContinueCompaction(); }

void Driver::Step(const raftpb::Message& message) {
  if (failed_) return;
  absl::Status s = raw_->Step(message);
  if (!s.ok() && !raft::IsStepPeerNotFound(s)) {
    Log(raft::LogLevel::kDebug,
        fmt::format("refused a {} from {:x}: {}", raftpb::MessageType_Name(message.msg_type()),
                    message.from(), std::string(s.message())));
  }
}

void Driver::ReportUnreachable(uint64_t peer) {
  if (!failed_) raw_->ReportUnreachable(peer);
}

void Driver::ReportSnapshot(uint64_t peer, bool delivered) {
  if (failed_) return;
  raw_->ReportSnapshot(peer,
                       delivered ? raft::SnapshotStatus::kFinish : raft::SnapshotStatus::kFailure);
}

void Driver::TransferLeader(uint64_t target) {
  if (!failed_) raw_->TransferLeader(target);
}

void Driver::Campaign() {
  if (!failed_) (void)raw_->Campaign();
}

absl::Status Driver::ProposeConfChange(const raftpb::ConfChangeV2& change) {
  if (failed_) return StoppedError();
  return raw_->ProposeConfChange(change);
}

absl::Status Driver::Process() {
  if (failed_) return StoppedError();
  ProposeBatch();
  MaybeIssueReadRound();
  if (absl::Status s = raft::HandleReadies(*raw_, *this); !s.ok()) return Fail(std::move(s));
  return absl::OkStatus();
}

void Driver::ObserveState(const raft::Ready& ready) {
  if (ready.soft_state.has_value()) ObserveSoftState(*ready.soft_state);
  if (ready.hard_state.has_value()) hard_state_ = *ready.hard_state;
  if (leases_.primary() && lessor_term_ != term()) DemoteLessor();
}

void Driver::Send(std::vector<raftpb::Message> messages) { network_->Send(std::move(messages)); }

namespace {
void ObserveCount(base::Histogram* histogram, size_t count) {
  if (histogram != nullptr && count > 0) histogram->Observe(static_cast<double>(count));
}
}  // namespace

absl::Status Driver::Persist(const raft::Ready& ready) {
  ObserveCount(options_.metrics.entries_persisted_per_ready, ready.entries.size());
  // A failure is fatal: the kernel may have dropped the unsynced pages, so neither retrying nor
  // going on keeps the promises of votes and acknowledgements (§5.2, §5.3).
  if (absl::Status s = log_store_->Save(ready); !s.ok()) {
    return absl::Status(s.code(),
                        fmt::format("cannot persist the raft log: {}", std::string(s.message())));
  }
  return absl::OkStatus();
}

absl::Status Driver::Apply(const raft::Ready& ready) {
  for (const raft::ReadState& rs : ready.read_states) OnReadState(rs);
  if (ready.snapshot.has_value()) {
    if (absl::Status s = ApplySnapshot(*ready.snapshot); !s.ok()) return s;
  }
  ObserveCount(options_.metrics.entries_applied_per_ready, ready.committed_entries.size());
  for (const raftpb::Entry& entry : ready.committed_entries) {
    bytes_since_snapshot_ += entry.data().size();
    ApplyEntry(entry);
  }
  ServeAppliedReads();
  return absl::OkStatus();
}

void Driver::AfterAdvance() {
  MaybeSnapshot();
  // A round answered in this Ready lets the reads that queued meanwhile go next.
  MaybeIssueReadRound();
}

void Driver::ObserveSoftState(const raft::SoftState& soft_state) {
  const uint64_t previous = soft_state_.leader;
  soft_state_ = soft_state;
  // Only a leader expires leases; it takes over again when it applies its first entry.
  if (soft_state.role != raft::StateRole::kLeader) DemoteLessor();
  if (previous == soft_state.leader) return;
  if (soft_state.leader == 0) {
    Log(raft::LogLevel::kWarn, fmt::format("lost the leader {:x}; no leader now", previous));
  } else {
    Log(raft::LogLevel::kInfo,
        fmt::format("member {:x} is the leader now{}", soft_state.leader,
                    soft_state.leader == options_.id ? " (this member)" : ""));
  }
  // The old leader may have dropped the round in flight: its reads join a fresh round.
  if (read_round_.has_value()) {
    for (ReadWaiter& w : read_round_->waiters) next_reads_.push_back(std::move(w));
    read_round_.reset();
  }
}

absl::Status Driver::ApplySnapshot(const raftpb::Snapshot& snapshot) {
  const uint64_t index = snapshot.metadata().index();
  conf_state_ = snapshot.metadata().conf_state();
  log_applied_ = index;
  if (index <= applier_->applied_index()) return absl::OkStatus();
  if (absl::Status s = applier_->Restore(index, snapshot.data()); !s.ok()) {
    // The leader's snapshot passed its checksum but does not decode (or its checkpoint cannot
    // be installed): applying later entries to the wrong state would diverge from every other
    // member.
    return absl::DataLossError(fmt::format("cannot restore the snapshot at index {}: {}", index,
                                           std::string(s.message())));
  }
  CountSnapshotFrom(index);
  ++snapshots_installed_;
  leases_.Follow(ticks_, applier_->store().Leases());
  // The snapshot may know members this member never saw join (etcd rebuilds its peers here too).
  network_->FollowMembers(applier_->members());
  const uint64_t applied = applier_->applied_index();
  Log(raft::LogLevel::kInfo,
      applied == index
          ? fmt::format("restored the state from a snapshot at index {}", index)
          : fmt::format("restored the state from a snapshot at index {} (its checkpoint holds "
                        "the entries up to {}; the log's entries up to there are skipped)",
                        index, applied));
  return absl::OkStatus();
}

void Driver::ApplyEntry(const raftpb::Entry& entry) {
  log_applied_ = entry.index();
  if (entry.index() <= applier_->applied_index()) {
    // The state holds this entry already (a restored snapshot, or a state on disk that was
    // ahead of the log's snapshot at start-up). The core still needs its configuration changes.
    ReplayConfChange(entry);
    return;
  }
  switch (entry.entry_type()) {
    case raftpb::ENTRY_NORMAL:
      ApplyNormalEntry(entry);
      return;
    case raftpb::ENTRY_CONF_CHANGE:
      ApplyConfChangeEntry(entry);
      return;
    case raftpb::ENTRY_CONF_CHANGE_V2: {
      raftpb::ConfChangeV2 change;
      if (change.ParseFromString(entry.data())) conf_state_ = raw_->ApplyConfChange(change);
      applier_->MarkApplied(entry.index());
      return;
    }
    default:
      applier_->MarkApplied(entry.index());
      return;
  }
}

void Driver::ReplayConfChange(const raftpb::Entry& entry) {
  if (entry.entry_type() == raftpb::ENTRY_CONF_CHANGE) {
    raftpb::ConfChange change;
    if (!change.ParseFromString(entry.data())) return;
    conf_state_ = raw_->ApplyConfChange(change);
    // A removed member restarted on its old data learns again that it is out.
    if (change.change_type() == raftpb::CONF_CHANGE_REMOVE_NODE &&
        change.node_id() == options_.id && options_.on_removed) {
      options_.on_removed();
    }
  } else if (entry.entry_type() == raftpb::ENTRY_CONF_CHANGE_V2) {
    raftpb::ConfChangeV2 change;
    if (change.ParseFromString(entry.data())) conf_state_ = raw_->ApplyConfChange(change);
  }
}

void Driver::ApplyNormalEntry(const raftpb::Entry& entry) {
  const uint64_t index = entry.index();
  peerpb::Proposal proposal;
  if (entry.data().empty() || !proposal.ParseFromString(entry.data())) {
    // A new leader's empty entry (§5.4.2), or data that is not ours: the index still moves.
    applier_->MarkApplied(index);
    if (entry.data().empty()) MaybePromoteLessor(entry);
    return;
  }
  const bool ours = proposal.proposer() == options_.id;
  if (proposal.has_kv_request()) {
    kvpb::Request request;
    WriteResult result = absl::InternalError("the replicated request does not decode");
    if (request.ParseFromString(proposal.kv_request())) {
      result = applier_->ApplyRequest(index, request);
      ObserveAppliedLeaseRequest(request, result);
      ObserveAppliedForQuota(request, result);
    } else {
      applier_->MarkApplied(index);
    }
    if (ours) CompleteWrite(proposal.request_id(), std::move(result));
    return;
  }
  if (proposal.has_member_attributes()) {
    applier_->ApplyMemberAttributes(index, proposal.member_attributes());
    network_->FollowMembers(applier_->members());
    if (proposal.member_attributes().id() == options_.id && !attributes_published_) {
      attributes_published_ = true;
      Log(raft::LogLevel::kInfo,
          fmt::format("published this member's attributes (name {}) at index {}",
                      proposal.member_attributes().name(), index));
    }
    return;
  }
  applier_->MarkApplied(index);
}

void Driver::ApplyConfChangeEntry(const raftpb::Entry& entry) {
  raftpb::ConfChange change;
  if (!change.ParseFromString(entry.data())) {
    Log(raft::LogLevel::kError,
        fmt::format("the membership change at index {} does not decode", entry.index()));
    applier_->MarkApplied(entry.index());
    return;
  }
  // The core hears of a change when it is applied, in log order (thesis §4.1).
  conf_state_ = raw_->ApplyConfChange(change);
  applier_->ApplyConfChange(entry.index(), change);
  network_->FollowMembers(applier_->members());
  auto it = writes_.find(change.id());
  if (change.id() != 0 && it != writes_.end() && it->second.change_node == change.node_id()) {
    CompleteWrite(change.id(), kvpb::Response());
  }
  if (change.change_type() == raftpb::CONF_CHANGE_REMOVE_NODE && change.node_id() == options_.id) {
    Log(raft::LogLevel::kWarn, "this member applied its own removal from the cluster");
    if (options_.on_removed) options_.on_removed();
  }
}

void Driver::CountSnapshotFrom(uint64_t index) {
  last_snapshot_index_ = index;
  bytes_since_snapshot_ = 0;
}

void Driver::MaybeSnapshot() {
  const uint64_t applied = applier_->applied_index();
  const bool count_reached =
      options_.snapshot_count != 0 && applied >= last_snapshot_index_ + options_.snapshot_count;
  const bool bytes_reached = options_.snapshot_bytes != 0 &&
                             bytes_since_snapshot_ >= options_.snapshot_bytes &&
                             applied > last_snapshot_index_;
  if (!count_reached && !bytes_reached) return;
  // A state ahead of the entries the core has handed over (reopened ahead of the log's snapshot,
  // or installed from a later checkpoint) waits for the log: the snapshot's configuration is
  // conf_state_, which only the entries up to its index make right.
  if (log_applied_ < applied) return;
  // The durability rule between the state and the log: the log is compacted only behind what
  // the state made durable, so a state on disk that lost its latest entries to a machine crash
  // finds them in the log.
  if (absl::Status s = applier_->Sync(); !s.ok()) {
    Log(raft::LogLevel::kWarn,
        fmt::format("not snapshotting at index {}: the applied state cannot be made durable: {}",
                    applied, std::string(s.message())));
    return;
  }
  absl::StatusOr<std::string> state = applier_->Snapshot();
  if (!state.ok()) {
    // Never compact behind a snapshot that does not hold the whole state: keep the log, and
    // try again only after another snapshot_count entries (or snapshot_bytes).
    Log(raft::LogLevel::kWarn,
        fmt::format("not snapshotting at index {}, the log is kept whole: {}", applied,
                    std::string(state.status().message())));
    CountSnapshotFrom(applied);
    return;
  }
  absl::Status s = log_store_->CreateSnapshot(applied, conf_state_, *std::move(state));
  if (!s.ok()) {
    // A newer snapshot arrived from the leader meanwhile, or the disk refused: try again later.
    Log(raft::LogLevel::kWarn,
        fmt::format("cannot record a snapshot at index {}: {}", applied, std::string(s.message())));
    return;
  }
  CountSnapshotFrom(applied);
  ++snapshots_taken_;
  // Keep some entries behind the snapshot: a follower just behind then catches up from the log
  // instead of receiving the whole state (§7).
  if (applied > options_.snapshot_catchup_entries) {
    const uint64_t compact_index = applied - options_.snapshot_catchup_entries;
    if (compact_index > log_store_->storage().FirstIndex()) {
      if (absl::Status c = log_store_->Compact(compact_index); !c.ok()) {
        Log(raft::LogLevel::kWarn, fmt::format("cannot compact the log to {}: {}", compact_index,
                                               std::string(c.message())));
      }
    }
  }
  Log(raft::LogLevel::kInfo, fmt::format("snapshot at index {}; log compacted to {}", applied,
                                         log_store_->storage().FirstIndex()));
}

void Driver::FailAll(const absl::Status& status) {
  auto writes = std::move(writes_);
  writes_.clear();
  for (auto& [id, w] : writes) w.done(status);
  batch_.clear();
  batch_ids_.clear();
  std::vector<ReadWaiter> reads = std::move(next_reads_);
  next_reads_.clear();
  if (read_round_.has_value()) {
    for (ReadWaiter& w : read_round_->waiters) reads.push_back(std::move(w));
    read_round_.reset();
  }
  for (auto& [index, w] : reads_to_apply_) reads.push_back(std::move(w));
  reads_to_apply_.clear();
  for (ReadWaiter& w : reads) w.done(status);
  std::vector<LessorWaiter> lessor_waiters = std::move(lessor_waiters_);
  lessor_waiters_.clear();
  for (LessorWaiter& w : lessor_waiters) w.run(status);
}

size_t Driver::pending_reads() const {
  return next_reads_.size() + (read_round_.has_value() ? read_round_->waiters.size() : 0) +
         reads_to_apply_.size();
}

}  // namespace raftkv::node
