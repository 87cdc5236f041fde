// The follower's step function: accepting the leader's appends, heartbeats and snapshots,
// and forwarding client requests to the leader.
#include <algorithm>

#include "absl/strings/substitute.h"
#include "raft/confchange/confchange.h"
#include "raft/errors.h"
#include "raft/raft.h"
#include "raft/util.h"

namespace raftkv::raft {

absl::Status Raft::StepFollower(raftpb::Message& m) {
  switch (m.msg_type()) {
    case raftpb::MSG_PROPOSE:
      if (lead_ == 0) {
        return ProposalDroppedError("no leader is known at this term; retry later");
      }
      if (disable_proposal_forwarding_) {
        return ProposalDroppedError(absl::Substitute(
            "this node is a follower and proposal forwarding is disabled; send it to the "
            "leader ($0)",
            lead_));
      }
      m.set_to(lead_);
      Send(m);
      break;
    case raftpb::MSG_APPEND:
      election_elapsed_ = 0;
      lead_ = m.from();
      HandleAppendEntries(m);
      break;
    case raftpb::MSG_HEARTBEAT:
      election_elapsed_ = 0;
      lead_ = m.from();
      HandleHeartbeat(m);
      break;
    case raftpb::MSG_SNAPSHOT:
      election_elapsed_ = 0;
      lead_ = m.from();
      HandleSnapshot(m);
      break;
    case raftpb::MSG_TRANSFER_LEADER:
      if (lead_ == 0) {
        Log(LogLevel::kInfo, "no leader at this term; dropping leader transfer message");
        break;
      }
      m.set_to(lead_);
      Send(m);
      break;
    case raftpb::MSG_TIMEOUT_NOW:
      // Thesis §3.10: the leader hands over; campaign at once, skipping PreVote (the
      // leader's blessing is the proof that the election is welcome).
      Log(LogLevel::kInfo,
          absl::Substitute("received MsgTimeoutNow from $0 and starts an election to get "
                           "leadership",
                           m.from()));
      Hup(CampaignType::kTransfer);
      break;
    case raftpb::MSG_READ_INDEX:
      if (lead_ == 0) {
        Log(LogLevel::kInfo, "no leader at this term; dropping read index message");
        break;
      }
      m.set_to(lead_);
      Send(m);
      break;
    case raftpb::MSG_READ_INDEX_RESPONSE:
      if (m.entries_size() != 1) {
        Log(LogLevel::kError, absl::Substitute("invalid MsgReadIndexResp from $0: $1 entries",
                                               m.from(), m.entries_size()));
        break;
      }
      read_states_.push_back(ReadState{m.index(), m.entries(0).data()});
      break;
    default:
      break;
  }
  return absl::OkStatus();
}

void Raft::HandleAppendEntries(const raftpb::Message& m) {
  raftpb::Message resp;
  resp.set_to(m.from());
  resp.set_msg_type(raftpb::MSG_APPEND_RESPONSE);
  if (m.index() < log_.committed()) {
    // Everything up to our commit index is already known to match the leader (Leader
    // Completeness, §5.4); answer with it so the leader can move on.
    resp.set_index(log_.committed());
    Send(std::move(resp));
    return;
  }
  std::vector<raftpb::Entry> entries(m.entries().begin(), m.entries().end());
  if (auto last_new = log_.MaybeAppend(m.index(), m.log_term(), m.commit(), entries)) {
    resp.set_index(*last_new);
    Send(std::move(resp));
    return;
  }
  // §5.3: the consistency check failed. Hint where the logs may match: the last entry at or
  // below the probed index whose term is <= the probed term (all later ones must differ).
  const uint64_t hint_index = std::min(m.index(), log_.LastIndex());
  const auto [index, term] = log_.FindConflictByTerm(hint_index, m.log_term());
  Log(LogLevel::kDebug,
      absl::Substitute("[logterm: $0, index: $1] rejected MsgApp [logterm: $2, index: $3] from $4",
                       log_.ZeroTermOnOutOfBounds(m.index()), m.index(), m.log_term(), m.index(),
                       m.from()));
  resp.set_index(m.index());
  resp.set_reject(true);
  resp.set_reject_hint(index);
  resp.set_reject_hint_term(term);
  Send(std::move(resp));
}

void Raft::HandleHeartbeat(const raftpb::Message& m) {
  // The leader capped the commit at what we are known to hold, so it is within our log;
  // a larger one would mean acknowledged entries were lost here.
  if (m.commit() > log_.LastIndex()) {
    Log(LogLevel::kError,
        absl::Substitute("heartbeat commit $0 is beyond the last index $1: was the log lost?",
                         m.commit(), log_.LastIndex()));
  } else {
    log_.CommitTo(m.commit());
  }
  raftpb::Message resp;
  resp.set_to(m.from());
  resp.set_msg_type(raftpb::MSG_HEARTBEAT_RESPONSE);
  resp.set_context(m.context());
  Send(std::move(resp));
}

void Raft::HandleSnapshot(const raftpb::Message& m) {
  const uint64_t index = m.snapshot().metadata().index();
  const uint64_t term = m.snapshot().metadata().term();
  raftpb::Message resp;
  resp.set_to(m.from());
  resp.set_msg_type(raftpb::MSG_APPEND_RESPONSE);
  if (Restore(m.snapshot())) {
    Log(LogLevel::kInfo, absl::Substitute("[commit: $0] restored snapshot [index: $1, term: $2]",
                                          log_.committed(), index, term));
    resp.set_index(log_.LastIndex());
  } else {
    Log(LogLevel::kInfo, absl::Substitute("[commit: $0] ignored snapshot [index: $1, term: $2]",
                                          log_.committed(), index, term));
    resp.set_index(log_.committed());
  }
  Send(std::move(resp));
}

bool Raft::Restore(const raftpb::Snapshot& s) {
  const auto& meta = s.metadata();
  // Only a snapshot that brings news: everything up to our commit index we already have.
  if (meta.index() <= log_.committed()) return false;
  if (state_ != StateRole::kFollower) {
    // Only a leader of our term sends snapshots, and its messages make us a follower first.
    Log(LogLevel::kWarn, "attempted to restore a snapshot as a non-follower; stepping down");
    BecomeFollower(term_ + 1, 0);
    return false;
  }
  const auto& cs = meta.conf_state();
  // The snapshot's configuration may not contain this node: a member added after the
  // leader's last snapshot is caught up from a snapshot older than its own addition. It
  // restores anyway, as a non-member it cannot campaign, and it learns its membership from the
  // configuration entries that follow the snapshot in the leader's log (thesis §4.2.1).
  // Our log already holds the snapshot's last entry: then it holds everything before it too
  // (Log Matching), so just commit up to it and keep the entries after it.
  if (log_.MatchTerm(meta.index(), meta.term())) {
    log_.CommitTo(meta.index());
    return false;
  }
  auto restored =
      confchange::Restore(cs, trk_.max_inflight(), trk_.max_inflight_bytes(), meta.index());
  if (!restored.ok()) {
    Log(LogLevel::kError,
        "snapshot carries an invalid configuration: " + restored.status().ToString());
    return false;
  }
  log_.Restore(s);
  SwitchToConfig(std::move(restored->config), std::move(restored->progress));
  return true;
}

}  // namespace raftkv::raft
