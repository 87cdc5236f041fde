// RawNode: the public face of the core. It turns calls into messages for Raft, and collects
// Raft's outputs into Ready batches.
//
// Why the Ready contract keeps the leader's commit safe: the leader's own copy of an entry
// counts toward a quorum only at Advance (Raft::OnPersisted), i.e. after the application
// wrote it durably. A commit index that is handed out — in a Ready's hard state, in its
// committed entries, or inside appends and heartbeats sent to followers — therefore only
// ever counts durable copies; a leader crash cannot un-commit an entry a follower was told
// about. Followers' acknowledgements are persisted_messages, sent only after the follower's
// own write. Messages stepped between GetReady and Advance only queue output for the next
// Ready; entries handed out but overwritten in between are not marked stable at Advance,
// because StableTo checks the term.
#include "raftkv/raft/raw_node.h"

#include "raft/confchange/confchange.h"
#include "raft/errors.h"
#include "raft/raft.h"
#include "raft/util.h"

namespace raftkv::raft {
namespace {

bool HardStateEqual(const raftpb::HardState& a, const raftpb::HardState& b) {
  return a.term() == b.term() && a.vote() == b.vote() && a.commit() == b.commit();
}

bool IsEmptyHardState(const raftpb::HardState& hs) {
  return hs.term() == 0 && hs.vote() == 0 && hs.commit() == 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RawNode>> RawNode::Create(const Config& config) {
  auto r = Raft::Create(config);
  if (!r.ok()) return r.status();
  std::unique_ptr<RawNode> node(new RawNode(*std::move(r)));
  return node;
}

RawNode::RawNode(std::unique_ptr<Raft> raft) : raft_(std::move(raft)) {
  prev_soft_state_ = raft_->GetSoftState();
  prev_hard_state_ = raft_->GetHardState();
}

RawNode::~RawNode() = default;

void RawNode::Tick() { raft_->Tick(); }

absl::Status RawNode::Campaign() {
  raftpb::Message m;
  m.set_msg_type(raftpb::MSG_HUP);
  m.set_from(raft_->id());
  return raft_->Step(std::move(m));
}

absl::Status RawNode::Propose(std::string data) {
  raftpb::Message m;
  m.set_msg_type(raftpb::MSG_PROPOSE);
  m.set_from(raft_->id());
  m.add_entries()->set_data(std::move(data));
  return raft_->Step(std::move(m));
}

absl::Status RawNode::ProposeBatch(std::vector<std::string> data) {
  if (data.empty()) return absl::InvalidArgumentError("ProposeBatch needs at least one entry");
  raftpb::Message m;
  m.set_msg_type(raftpb::MSG_PROPOSE);
  m.set_from(raft_->id());
  for (std::string& d : data) m.add_entries()->set_data(std::move(d));
  return raft_->Step(std::move(m));
}

absl::Status RawNode::ProposeConfChange(const raftpb::ConfChange& change) {
  raftpb::Message m;
  m.set_msg_type(raftpb::MSG_PROPOSE);
  m.set_from(raft_->id());
  raftpb::Entry* e = m.add_entries();
  e->set_entry_type(raftpb::ENTRY_CONF_CHANGE);
  e->set_data(change.SerializeAsString());
  return raft_->Step(std::move(m));
}

absl::Status RawNode::ProposeConfChange(const raftpb::ConfChangeV2& change) {
  raftpb::Message m;
  m.set_msg_type(raftpb::MSG_PROPOSE);
  m.set_from(raft_->id());
  raftpb::Entry* e = m.add_entries();
  e->set_entry_type(raftpb::ENTRY_CONF_CHANGE_V2);
  e->set_data(change.SerializeAsString());
  return raft_->Step(std::move(m));
}

raftpb::ConfState RawNode::ApplyConfChange(const raftpb::ConfChangeV2& change) {
  return raft_->ApplyConfChange(change);
}

raftpb::ConfState RawNode::ApplyConfChange(const raftpb::ConfChange& change) {
  return raft_->ApplyConfChange(confchange::ToV2(change));
}

absl::Status RawNode::Step(const raftpb::Message& message) {
  if (IsLocalMessage(message.msg_type())) {
    return TaggedError(absl::StatusCode::kInvalidArgument, kStepLocalMessageTag,
                       std::string("raft: cannot step a local message from the network: ") +
                           MessageTypeName(message.msg_type()));
  }
  if (IsResponseMessage(message.msg_type()) &&
      raft_->tracker().progress().count(message.from()) == 0) {
    return TaggedError(absl::StatusCode::kNotFound, kStepPeerNotFoundTag,
                       "raft: cannot step a response from node " + std::to_string(message.from()) +
                           ", which is not in the configuration");
  }
  return raft_->Step(message);
}

bool RawNode::HasReady() const {
  if (!error_.ok()) return false;
  if (!(raft_->GetSoftState() == prev_soft_state_)) return true;
  const raftpb::HardState hs = raft_->GetHardState();
  if (!IsEmptyHardState(hs) && !HardStateEqual(hs, prev_hard_state_)) return true;
  const RaftLog& log = raft_->log();
  if (log.NextUnstableSnapshot() != nullptr) return true;
  if (log.HasNextUnstableEntries()) return true;
  if (!raft_->messages().empty() || !raft_->persisted_messages().empty()) return true;
  if (log.HasNextCommittedEntries()) return true;
  return !raft_->read_states().empty();
}

Ready RawNode::GetReady() {
  Ready rd;
  const SoftState soft = raft_->GetSoftState();
  if (!(soft == prev_soft_state_)) rd.soft_state = soft;
  const raftpb::HardState hs = raft_->GetHardState();
  if (!HardStateEqual(hs, prev_hard_state_)) rd.hard_state = hs;
  RaftLog& log = raft_->log();
  rd.entries = log.NextUnstableEntries();
  if (const raftpb::Snapshot* snap = log.NextUnstableSnapshot()) rd.snapshot = *snap;
  absl::StatusOr<std::vector<raftpb::Entry>> committed = log.NextCommittedEntries();
  if (committed.ok()) {
    rd.committed_entries = *std::move(committed);
  } else {
    error_ = committed.status();
  }
  rd.messages.swap(raft_->messages());
  rd.persisted_messages.swap(raft_->persisted_messages());
  rd.read_states.swap(raft_->read_states());
  // A vote or term change must be durable before anything that depends on it leaves the
  // node; so must new entries. A commit-only change may be written lazily: losing it only
  // means learning the commit index again from the leader.
  rd.must_sync = !rd.entries.empty() ||
                 (rd.hard_state.has_value() &&
                  (hs.term() != prev_hard_state_.term() || hs.vote() != prev_hard_state_.vote()));
  AcceptReady(rd);
  return rd;
}

void RawNode::AcceptReady(const Ready& ready) {
  if (ready.soft_state) prev_soft_state_ = *ready.soft_state;
  if (ready.hard_state) prev_hard_state_ = *ready.hard_state;
  RaftLog& log = raft_->log();
  log.AcceptUnstable();
  InFlight& f = in_flight_;
  f = InFlight{};
  if (!ready.entries.empty()) {
    f.stable_index = ready.entries.back().index();
    f.stable_term = ready.entries.back().term();
  }
  if (ready.snapshot) f.snapshot_index = ready.snapshot->metadata().index();
  if (!ready.committed_entries.empty()) {
    f.applied_index = ready.committed_entries.back().index();
    f.applied_bytes = EntriesPayloadSize(ready.committed_entries);
    log.AcceptApplying(f.applied_index);
  }
  ready_outstanding_ = true;
}

void RawNode::Advance() {
  if (!ready_outstanding_) return;
  ready_outstanding_ = false;
  const InFlight f = in_flight_;
  in_flight_ = InFlight{};
  if (f.snapshot_index != 0) raft_->OnSnapshotPersisted(f.snapshot_index);
  if (f.stable_index != 0) raft_->OnPersisted(f.stable_index, f.stable_term);
  if (f.applied_index != 0) raft_->OnApplied(f.applied_index, f.applied_bytes);
}

void RawNode::TransferLeader(uint64_t transferee) {
  raftpb::Message m;
  m.set_msg_type(raftpb::MSG_TRANSFER_LEADER);
  m.set_from(transferee);
  (void)raft_->Step(std::move(m));
}

void RawNode::ReadIndex(std::string request_ctx) {
  raftpb::Message m;
  m.set_msg_type(raftpb::MSG_READ_INDEX);
  m.add_entries()->set_data(std::move(request_ctx));
  (void)raft_->Step(std::move(m));
}

void RawNode::ReportUnreachable(uint64_t id) {
  raftpb::Message m;
  m.set_msg_type(raftpb::MSG_UNREACHABLE);
  m.set_from(id);
  (void)raft_->Step(std::move(m));
}

void RawNode::ReportSnapshot(uint64_t id, SnapshotStatus status) {
  raftpb::Message m;
  m.set_msg_type(raftpb::MSG_SNAP_STATUS);
  m.set_from(id);
  m.set_reject(status == SnapshotStatus::kFailure);
  (void)raft_->Step(std::move(m));
}

Status RawNode::GetStatus() const { return raft_->GetStatus(); }

}  // namespace raftkv::raft
