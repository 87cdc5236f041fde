// The leader's step function: proposals, replication and its flow control, commitment,
// heartbeats, read-index confirmation and leadership transfer.
#include <algorithm>

#include "absl/strings/substitute.h"
#include "raft/confchange/confchange.h"
#include "raft/errors.h"
#include "raft/raft.h"
#include "raft/util.h"

namespace raftkv::raft {

absl::Status Raft::StepLeader(raftpb::Message& m) {
  // Messages that need no progress of the sender.
  switch (m.msg_type()) {
    case raftpb::MSG_BEAT:
      BcastHeartbeat();
      return absl::OkStatus();
    case raftpb::MSG_CHECK_QUORUM:
      // Thesis §6.2: a leader that has not heard from a quorum in an election timeout may
      // have been replaced; it steps down so clients look for the real leader.
      if (!trk_.QuorumActive()) {
        Log(LogLevel::kWarn, "stepped down to follower since quorum is not active");
        BecomeFollower(term_, 0);
      }
      for (auto& [id, pr] : trk_.progress()) {
        if (id != id_) pr.set_recent_active(false);
      }
      return absl::OkStatus();
    case raftpb::MSG_PROPOSE:
      return LeaderPropose(m);
    case raftpb::MSG_READ_INDEX:
      if (m.entries_size() != 1) {
        return absl::InvalidArgumentError("a read-index request carries exactly one entry");
      }
      // A lone voter is its own quorum: the commit index is the read index.
      if (trk_.IsSingleton()) {
        if (auto resp = ResponseToReadIndexReq(m, log_.committed())) Send(*std::move(resp));
        return absl::OkStatus();
      }
      // Thesis §6.4: until the leader has committed an entry of its term it does not know
      // the latest commit index; the request waits for that.
      if (!CommittedEntryInCurrentTerm()) {
        pending_read_index_messages_.push_back(m);
        return absl::OkStatus();
      }
      SendReadIndexResponse(m);
      return absl::OkStatus();
    default:
      break;
  }

  auto it = trk_.progress().find(m.from());
  if (it == trk_.progress().end()) {
    Log(LogLevel::kDebug, absl::Substitute("no progress available for $0", m.from()));
    return absl::OkStatus();
  }
  tracker::Progress& pr = it->second;
  switch (m.msg_type()) {
    case raftpb::MSG_APPEND_RESPONSE:
      LeaderHandleAppendResponse(m, pr);
      break;
    case raftpb::MSG_HEARTBEAT_RESPONSE:
      LeaderHandleHeartbeatResponse(m, pr);
      break;
    case raftpb::MSG_SNAP_STATUS:
      if (pr.state() != ProgressState::kSnapshot) break;
      if (m.reject()) {
        // The snapshot did not arrive: forget it, so probing restarts from match.
        pr.AbortSnapshot();
        Log(LogLevel::kDebug,
            absl::Substitute("snapshot failed, resumed sending replication messages to $0",
                             m.from()));
      } else {
        Log(LogLevel::kDebug,
            absl::Substitute("snapshot succeeded, resumed sending replication messages to $0",
                             m.from()));
      }
      pr.BecomeProbe();
      // Wait for the follower's append response (or the next heartbeat) before probing:
      // the snapshot may still be being applied.
      pr.PauseProbe();
      break;
    case raftpb::MSG_UNREACHABLE:
      // Optimistic pipelining assumed delivery; fall back to probing.
      if (pr.state() == ProgressState::kReplicate) pr.BecomeProbe();
      Log(LogLevel::kDebug,
          absl::Substitute("failed to send message to $0 because it is unreachable", m.from()));
      break;
    case raftpb::MSG_TRANSFER_LEADER:
      LeaderHandleTransfer(m, pr);
      break;
    default:
      break;
  }
  return absl::OkStatus();
}

absl::Status Raft::LeaderPropose(raftpb::Message& m) {
  if (m.entries_size() == 0) return absl::InvalidArgumentError("a proposal carries no entries");
  if (trk_.progress().count(id_) == 0) {
    // Removed from the configuration but not yet stepped down.
    return ProposalDroppedError("this leader was removed from the configuration");
  }
  if (lead_transferee_ != 0) {
    // Thesis §3.10: the old leader stops accepting requests during a transfer, so the
    // target can catch up and take over.
    return ProposalDroppedError(absl::Substitute(
        "leadership is being transferred to $0; retry on the new leader", lead_transferee_));
  }
  for (int i = 0; i < m.entries_size(); ++i) {
    const raftpb::Entry& e = m.entries(i);
    if (e.entry_type() == raftpb::ENTRY_NORMAL) continue;
    raftpb::ConfChangeV2 cc;
    if (e.entry_type() == raftpb::ENTRY_CONF_CHANGE) {
      raftpb::ConfChange v1;
      if (!v1.ParseFromString(e.data())) {
        return absl::InvalidArgumentError("proposed configuration change does not parse");
      }
      cc = confchange::ToV2(v1);
    } else if (!cc.ParseFromString(e.data())) {
      return absl::InvalidArgumentError("proposed configuration change does not parse");
    }
    // Thesis §4.1: one change at a time. A change is pending from its proposal until it is
    // applied; until then the configuration it leads to is unknown to this check.
    const bool already_pending = pending_conf_index_ > log_.applied();
    const bool already_joint = trk_.config().voters.IsJoint();
    const bool wants_leave_joint = cc.changes_size() == 0;
    if (already_pending) {
      return absl::FailedPreconditionError(absl::Substitute(
          "a configuration change at index $0 is not yet applied (applied index $1); propose "
          "again once it is",
          pending_conf_index_, log_.applied()));
    }
    if (already_joint && !wants_leave_joint) {
      return absl::FailedPreconditionError(
          "the configuration is joint; leave it (propose an empty ConfChangeV2) before "
          "another change");
    }
    if (!already_joint && wants_leave_joint) {
      return absl::FailedPreconditionError(
          "the configuration is not joint; an empty change has nothing to leave");
    }
    pending_conf_index_ = log_.LastIndex() + static_cast<uint64_t>(i) + 1;
  }
  std::vector<raftpb::Entry> entries(m.entries().begin(), m.entries().end());
  if (!AppendEntry(std::move(entries))) {
    return ProposalDroppedError(
        "too many uncommitted entries (max_uncommitted_entries_size_bytes); retry once the "
        "cluster has caught up");
  }
  BcastAppend();
  return absl::OkStatus();
}

void Raft::LeaderHandleAppendResponse(const raftpb::Message& m, tracker::Progress& pr) {
  pr.set_recent_active(true);
  if (m.reject()) {
    Log(LogLevel::kDebug,
        absl::Substitute("received MsgAppResp(rejected, hint: (index $0, term $1)) from $2 for "
                         "index $3",
                         m.reject_hint(), m.reject_hint_term(), m.from(), m.index()));
    // Fast backtracking: the follower's hint is its (index, term) at or below the probed
    // index with term <= the probed entry's term. Every entry of ours after the last one with
    // term <= that term cannot match either, so the next probe goes straight there —
    // one round trip per term instead of per entry.
    uint64_t next_probe = m.reject_hint();
    if (m.reject_hint_term() > 0) {
      next_probe = log_.FindConflictByTerm(m.reject_hint(), m.reject_hint_term()).first;
    }
    if (pr.MaybeDecrTo(m.index(), next_probe)) {
      Log(LogLevel::kDebug,
          absl::Substitute("decreased progress of $0 to [$1]", m.from(), pr.String()));
      if (pr.state() == ProgressState::kReplicate) pr.BecomeProbe();
      SendAppend(m.from());
    }
    return;
  }
  const bool old_paused = pr.IsPaused();
  // A probe answered at exactly match still proves the position, so it also ends probing.
  if (!pr.MaybeUpdate(m.index()) &&
      !(pr.match() == m.index() && pr.state() == ProgressState::kProbe)) {
    return;
  }
  switch (pr.state()) {
    case ProgressState::kProbe:
      pr.BecomeReplicate();
      break;
    case ProgressState::kSnapshot:
      // The follower caught up past the snapshot (or our log still covers its position):
      // replicate from there.
      if (pr.match() + 1 >= log_.FirstIndex()) {
        Log(LogLevel::kDebug,
            absl::Substitute("recovered from needing snapshot, resumed sending replication "
                             "messages to $0 [$1]",
                             m.from(), pr.String()));
        pr.BecomeProbe();
        pr.BecomeReplicate();
      }
      break;
    case ProgressState::kReplicate:
      pr.mutable_inflights().FreeLE(m.index());
      break;
  }
  if (MaybeCommit()) {
    ReleasePendingReadIndexMessages();
    BcastAppend();
  } else if (old_paused) {
    // The window had closed; it may have reopened.
    SendAppend(m.from());
  }
  // Keep the pipeline full: send as much as the window and the log allow.
  while (MaybeSendAppend(m.from(), /*send_if_empty=*/false)) {
  }
  // Thesis §3.10: once the transfer target is up to date, tell it to campaign now.
  if (m.from() == lead_transferee_ && pr.match() == log_.LastIndex()) {
    Log(LogLevel::kInfo,
        absl::Substitute("sent MsgTimeoutNow to $0 after its log caught up", m.from()));
    SendTimeoutNow(m.from());
  }
}

void Raft::LeaderHandleHeartbeatResponse(const raftpb::Message& m, tracker::Progress& pr) {
  pr.set_recent_active(true);
  pr.ResumeProbe();
  if (pr.state() == ProgressState::kReplicate && pr.inflights().Full()) {
    // The whole window may have been lost in transit, in which case no acknowledgement will
    // ever free it. An empty append at next-1 settles it either way: accepted, it frees the
    // window up to there; rejected, it sends the follower back to probing.
    SendEmptyAppend(m.from());
  } else if (pr.match() < log_.LastIndex() || pr.state() == ProgressState::kProbe) {
    SendAppend(m.from());
  }
  if (read_only_.option() != ReadOnlyOption::kSafe || m.context().empty()) return;
  const quorum::VoteMap* acks = read_only_.RecvAck(m.from(), m.context());
  if (acks == nullptr || trk_.config().voters.GetVoteResult(*acks) != quorum::VoteResult::kWon) {
    return;
  }
  // A quorum still recognises this leader as of the heartbeat, so no newer leader can have
  // committed anything before the recorded read index was taken (thesis §6.4 step 3).
  for (ReadIndexStatus& rs : read_only_.Advance(m.context())) {
    if (auto resp = ResponseToReadIndexReq(rs.req, rs.index)) Send(*std::move(resp));
  }
}

void Raft::LeaderHandleTransfer(const raftpb::Message& m, tracker::Progress& pr) {
  const uint64_t transferee = m.from();
  if (pr.is_learner()) {
    Log(LogLevel::kDebug,
        absl::Substitute("ignored transferring leadership to learner $0", transferee));
    return;
  }
  if (lead_transferee_ != 0) {
    if (lead_transferee_ == transferee) {
      Log(LogLevel::kInfo,
          absl::Substitute("transfer of leadership to $0 already in progress", transferee));
      return;
    }
    AbortLeaderTransfer();
  }
  if (transferee == id_) {
    Log(LogLevel::kDebug, "is already leader; ignored transferring leadership to itself");
    return;
  }
  Log(LogLevel::kInfo, absl::Substitute("starts to transfer leadership to $0", transferee));
  // The transfer must finish within an election timeout (counted from now) or is aborted.
  election_elapsed_ = 0;
  lead_transferee_ = transferee;
  if (pr.match() == log_.LastIndex()) {
    SendTimeoutNow(transferee);
  } else {
    SendAppend(transferee);
  }
}

bool Raft::IncreaseUncommittedSize(const std::vector<raftpb::Entry>& entries) {
  const uint64_t s = EntriesPayloadSize(entries);
  // Even over the limit, one proposal is accepted when nothing is outstanding, so a single
  // large entry can always make progress.
  if (max_uncommitted_size_bytes_ != 0 && uncommitted_size_bytes_ > 0 && s > 0 &&
      uncommitted_size_bytes_ + s > max_uncommitted_size_bytes_) {
    return false;
  }
  uncommitted_size_bytes_ += s;
  return true;
}

void Raft::ReduceUncommittedSize(uint64_t bytes) {
  // Entries of a previous leader (or proposed before a restart) were never counted; clamp.
  uncommitted_size_bytes_ = bytes > uncommitted_size_bytes_ ? 0 : uncommitted_size_bytes_ - bytes;
}

bool Raft::AppendEntry(std::vector<raftpb::Entry> entries) {
  uint64_t index = log_.LastIndex();
  for (raftpb::Entry& e : entries) {
    e.set_term(term_);
    e.set_index(++index);
  }
  if (!IncreaseUncommittedSize(entries)) {
    Log(LogLevel::kWarn,
        "appending new entries to log would exceed uncommitted entry size "
        "limit; dropping proposal");
    return false;
  }
  log_.Append(entries);
  // The leader's own acknowledgement is counted when the entries are persisted
  // (OnPersisted), not here: see raft.h.
  return true;
}

bool Raft::MaybeCommit() {
  // §5.4.2: only an entry of the current term is committed by counting replicas; earlier
  // entries become committed with it (Log Matching).
  return log_.MaybeCommit(trk_.Committed(), term_);
}

bool Raft::CommittedEntryInCurrentTerm() const {
  return log_.ZeroTermOnOutOfBounds(log_.committed()) == term_;
}

bool Raft::MaybeSendAppend(uint64_t to, bool send_if_empty) {
  auto it = trk_.progress().find(to);
  if (it == trk_.progress().end()) return false;
  tracker::Progress& pr = it->second;
  if (pr.IsPaused()) return false;
  const uint64_t prev_index = pr.next() - 1;
  auto prev_term = log_.Term(prev_index);
  if (!prev_term.ok()) {
    // The entries the follower needs were compacted away: send a snapshot instead (§7).
    if (IsCompacted(prev_term.status())) return MaybeSendSnapshot(to, pr);
    Log(LogLevel::kError, absl::Substitute("cannot read term $0 for $1: $2", prev_index, to,
                                           prev_term.status().ToString()));
    return false;
  }
  std::vector<raftpb::Entry> entries;
  // In probe state entries are sent too: if the probe succeeds they were needed anyway.
  auto got = log_.Entries(pr.next(), max_msg_size_bytes_);
  if (!got.ok()) {
    if (IsCompacted(got.status())) return MaybeSendSnapshot(to, pr);
    Log(LogLevel::kError,
        absl::Substitute("cannot read entries for $0: $1", to, got.status().ToString()));
    return false;
  }
  entries = *std::move(got);
  if (entries.empty() && !send_if_empty) return false;
  raftpb::Message m;
  m.set_to(to);
  m.set_msg_type(raftpb::MSG_APPEND);
  // §5.3: the entry preceding the new ones, for the follower's consistency check.
  m.set_index(prev_index);
  m.set_log_term(*prev_term);
  m.set_commit(log_.committed());
  const size_t n = entries.size();
  const uint64_t bytes = EntriesPayloadSize(entries);
  const uint64_t last = n == 0 ? prev_index : entries.back().index();
  for (raftpb::Entry& e : entries) *m.add_entries() = std::move(e);
  pr.SentEntries(last, n, bytes);
  Send(std::move(m));
  return true;
}

void Raft::SendEmptyAppend(uint64_t to) {
  tracker::Progress& pr = trk_.progress().at(to);
  const uint64_t prev_index = pr.next() - 1;
  auto prev_term = log_.Term(prev_index);
  if (!prev_term.ok()) {
    // The entry before the window was compacted since the window was sent, so no append can
    // settle the window. Nothing else would ever be sent to this follower (its window stays
    // full), so give up on the window and probe from its match: that path finds the entries
    // compacted and sends a snapshot (§7).
    pr.BecomeProbe();
    MaybeSendAppend(to, /*send_if_empty=*/true);
    return;
  }
  raftpb::Message m;
  m.set_to(to);
  m.set_msg_type(raftpb::MSG_APPEND);
  m.set_index(prev_index);
  m.set_log_term(*prev_term);
  m.set_commit(log_.committed());
  // Carries no entries, so it takes no slot in the window.
  Send(std::move(m));
}

bool Raft::MaybeSendSnapshot(uint64_t to, tracker::Progress& pr) {
  if (!pr.recent_active()) {
    Log(LogLevel::kDebug,
        absl::Substitute("ignore sending snapshot to $0 since it is not recently active", to));
    return false;
  }
  auto snapshot = log_.Snapshot();
  if (!snapshot.ok()) {
    if (IsSnapshotTemporarilyUnavailable(snapshot.status())) {
      Log(LogLevel::kDebug, absl::Substitute("failed to send snapshot to $0: temporarily "
                                             "unavailable",
                                             to));
    } else {
      Log(LogLevel::kError,
          absl::Substitute("failed to read snapshot for $0: $1", to, snapshot.status().ToString()));
    }
    return false;
  }
  if (snapshot->metadata().index() == 0) {
    Log(LogLevel::kError, absl::Substitute("need a non-empty snapshot for $0", to));
    return false;
  }
  const uint64_t index = snapshot->metadata().index();
  Log(LogLevel::kDebug,
      absl::Substitute("[firstindex: $0, commit: $1] sent snapshot[index: $2, term: $3] to $4 [$5]",
                       log_.FirstIndex(), log_.committed(), index, snapshot->metadata().term(), to,
                       pr.String()));
  pr.BecomeSnapshot(index);
  raftpb::Message m;
  m.set_to(to);
  m.set_msg_type(raftpb::MSG_SNAPSHOT);
  *m.mutable_snapshot() = *std::move(snapshot);
  Send(std::move(m));
  return true;
}

void Raft::SendHeartbeat(uint64_t to, const std::string& ctx) {
  // The follower may not have the entries up to our commit index yet; telling it a commit
  // beyond what it is known to match could make it commit entries that are not the
  // leader's. match is known to agree with our log.
  const uint64_t commit = std::min(trk_.progress().at(to).match(), log_.committed());
  raftpb::Message m;
  m.set_to(to);
  m.set_msg_type(raftpb::MSG_HEARTBEAT);
  m.set_commit(commit);
  m.set_context(ctx);
  Send(std::move(m));
}

void Raft::SendTimeoutNow(uint64_t to) {
  raftpb::Message m;
  m.set_to(to);
  m.set_msg_type(raftpb::MSG_TIMEOUT_NOW);
  Send(std::move(m));
}

void Raft::BcastAppend() {
  for (const auto& [id, pr] : trk_.progress()) {
    (void)pr;
    if (id != id_) SendAppend(id);
  }
}

void Raft::BcastHeartbeat() { BcastHeartbeatWithCtx(read_only_.LastPendingRequestCtx()); }

void Raft::BcastHeartbeatWithCtx(const std::string& ctx) {
  for (const auto& [id, pr] : trk_.progress()) {
    (void)pr;
    if (id != id_) SendHeartbeat(id, ctx);
  }
}

void Raft::SendReadIndexResponse(const raftpb::Message& m) {
  switch (read_only_.option()) {
    case ReadOnlyOption::kSafe: {
      // Thesis §6.4: record the commit index, then confirm leadership with a heartbeat round
      // carrying the request's context.
      const std::string& ctx = m.entries(0).data();
      read_only_.AddRequest(log_.committed(), m);
      read_only_.RecvAck(id_, ctx);
      BcastHeartbeatWithCtx(ctx);
      break;
    }
    case ReadOnlyOption::kLeaseBased:
      // Thesis §6.4.1: within its lease (CheckQuorum) no other leader can exist; see
      // docs/raft.md for the clock assumption.
      if (auto resp = ResponseToReadIndexReq(m, log_.committed())) Send(*std::move(resp));
      break;
  }
}

std::optional<raftpb::Message> Raft::ResponseToReadIndexReq(const raftpb::Message& req,
                                                            uint64_t read_index) {
  if (req.from() == 0 || req.from() == id_) {
    ReadState rs;
    rs.index = read_index;
    rs.request_ctx = req.entries(0).data();
    read_states_.push_back(std::move(rs));
    return std::nullopt;
  }
  raftpb::Message resp;
  resp.set_msg_type(raftpb::MSG_READ_INDEX_RESPONSE);
  resp.set_to(req.from());
  resp.set_index(read_index);
  *resp.mutable_entries() = req.entries();
  return resp;
}

void Raft::ReleasePendingReadIndexMessages() {
  if (pending_read_index_messages_.empty()) return;
  if (!CommittedEntryInCurrentTerm()) return;
  std::vector<raftpb::Message> pending;
  pending.swap(pending_read_index_messages_);
  for (const raftpb::Message& m : pending) SendReadIndexResponse(m);
}

}  // namespace raftkv::raft
