// The parts of the Raft state machine every role shares: term handling, voting, role
// transitions, timers and configuration changes.
#include "raft/raft.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/substitute.h"
#include "base/check.h"
#include "raft/confchange/confchange.h"
#include "raft/errors.h"
#include "raft/util.h"

namespace raftkv::raft {

Raft::Raft(const Config& config)
    : id_(config.id),
      logger_(config.logger != nullptr ? config.logger : &discard_logger_),
      log_(config.storage, logger_, config.max_committed_size_per_ready_bytes),
      trk_(static_cast<size_t>(config.max_inflight_msgs), 0),
      read_only_(config.read_only_option),
      rand_(config.random_seed),
      max_msg_size_bytes_(config.max_size_per_msg_bytes),
      max_uncommitted_size_bytes_(config.max_uncommitted_entries_size_bytes),
      check_quorum_(config.check_quorum),
      pre_vote_(config.pre_vote),
      disable_proposal_forwarding_(config.disable_proposal_forwarding),
      heartbeat_timeout_(config.heartbeat_ticks),
      election_timeout_(config.election_ticks) {}

absl::StatusOr<std::unique_ptr<Raft>> Raft::Create(const Config& config) {
  if (absl::Status s = config.Validate(); !s.ok()) return s;
  raftpb::HardState hs;
  raftpb::ConfState cs;
  if (absl::Status s = config.storage->InitialState(&hs, &cs); !s.ok()) {
    return absl::Status(s.code(), "reading the initial state from storage: " + s.ToString());
  }
  std::unique_ptr<Raft> r(new Raft(config));
  auto restored = confchange::Restore(cs, r->trk_.max_inflight(), r->trk_.max_inflight_bytes(),
                                      r->log_.LastIndex());
  if (!restored.ok()) {
    return absl::InvalidArgumentError("storage holds an invalid configuration: " +
                                      restored.status().ToString());
  }
  r->SwitchToConfig(std::move(restored->config), std::move(restored->progress));
  const bool empty_hs = hs.term() == 0 && hs.vote() == 0 && hs.commit() == 0;
  if (!empty_hs) {
    if (hs.commit() > r->log_.LastIndex()) {
      return absl::DataLossError(absl::Substitute(
          "hard state commit $0 is beyond the last stored index $1: committed entries were "
          "truncated or lost",
          hs.commit(), r->log_.LastIndex()));
    }
    // A commit below the snapshot index is harmless (a crash between writing a snapshot and
    // the hard state that accompanied it): the snapshot itself proves its entries committed.
    r->LoadState(hs);
  }
  if (config.applied > 0) {
    if (config.applied > r->log_.committed()) {
      return absl::InvalidArgumentError(
          absl::Substitute("Config.applied $0 is beyond the commit index $1 found in storage",
                           config.applied, r->log_.committed()));
    }
    if (config.applied >= r->log_.applied()) r->log_.AppliedTo(config.applied);
  }
  r->BecomeFollower(r->term_, 0);
  r->Log(
      LogLevel::kInfo,
      absl::Substitute("newRaft $0 [peers: $1, term: $2, commit: $3, applied: $4, lastindex: $5, "
                       "lastterm: $6]",
                       r->id_, r->trk_.config().String(), r->term_, r->log_.committed(),
                       r->log_.applied(), r->log_.LastIndex(), r->log_.LastTerm()));
  return r;
}

void Raft::Log(LogLevel level, const std::string& message) const {
  logger_->Log(level, absl::StrCat(absl::Hex(id_), " ", message));
}

raftpb::HardState Raft::GetHardState() const {
  raftpb::HardState hs;
  hs.set_term(term_);
  hs.set_vote(vote_);
  hs.set_commit(log_.committed());
  return hs;
}

Status Raft::GetStatus() const {
  Status s;
  s.id = id_;
  s.hard_state = GetHardState();
  s.soft_state = GetSoftState();
  s.applied = log_.applied();
  s.conf_state = trk_.GetConfState();
  if (state_ == StateRole::kLeader) {
    for (const auto& [id, pr] : trk_.progress()) s.progress[id] = pr.ToStatus();
  }
  s.lead_transferee = lead_transferee_;
  return s;
}

void Raft::LoadState(const raftpb::HardState& hs) {
  log_.CommitTo(hs.commit());
  term_ = hs.term();
  vote_ = hs.vote();
}

uint64_t Raft::PersistedIndex() const {
  // Everything below the unstable tail is in Storage. While a snapshot is pending nothing is
  // known durable yet.
  if (log_.unstable().snapshot()) return 0;
  return std::min(log_.LastIndex(), log_.unstable().offset() - 1);
}

void Raft::Send(raftpb::Message m) {
  if (m.from() == 0) m.set_from(id_);
  const auto t = m.msg_type();
  if (t == raftpb::MSG_REQUEST_VOTE || t == raftpb::MSG_REQUEST_VOTE_RESPONSE ||
      t == raftpb::MSG_REQUEST_PRE_VOTE || t == raftpb::MSG_REQUEST_PRE_VOTE_RESPONSE) {
    // Vote messages carry the term of the election they belong to, which for pre-votes is
    // not this node's term.
    // A vote message of term 0 would be taken by its receiver for a local message.
    RAFTKV_CHECK(m.term() != 0, "vote message of type ", raftpb::MessageType_Name(t),
                 " without a term");
  } else if (t != raftpb::MSG_PROPOSE && t != raftpb::MSG_READ_INDEX) {
    // Proposals and read requests forwarded to the leader travel as local messages (term 0).
    m.set_term(term_);
  }
  // Messages that promise something about this node's durable state (its vote, its term, the
  // entries it holds) must wait until that state is persisted; the rest may go at once.
  if (t == raftpb::MSG_APPEND_RESPONSE || t == raftpb::MSG_REQUEST_VOTE ||
      t == raftpb::MSG_REQUEST_VOTE_RESPONSE || t == raftpb::MSG_REQUEST_PRE_VOTE ||
      t == raftpb::MSG_REQUEST_PRE_VOTE_RESPONSE) {
    msgs_after_append_.push_back(std::move(m));
  } else {
    msgs_.push_back(std::move(m));
  }
}

void Raft::Reset(uint64_t term) {
  if (term_ != term) {
    term_ = term;
    vote_ = 0;
  }
  lead_ = 0;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  ResetRandomizedElectionTimeout();
  AbortLeaderTransfer();
  trk_.ResetVotes();
  const uint64_t last = log_.LastIndex();
  const uint64_t persisted = PersistedIndex();
  for (auto& [id, pr] : trk_.progress()) {
    tracker::Progress fresh(last + 1, trk_.max_inflight(), trk_.max_inflight_bytes(),
                            pr.is_learner());
    // The leader's own match is what it has durably; unpersisted entries are counted when
    // the application reports them written (OnPersisted).
    if (id == id_) fresh.MaybeUpdate(persisted);
    pr = std::move(fresh);
  }
  pending_conf_index_ = 0;
  uncommitted_size_bytes_ = 0;
  read_only_ = ReadOnly(read_only_.option());
  pending_read_index_messages_.clear();
}

void Raft::ResetRandomizedElectionTimeout() {
  // §5.2: randomized timeouts in [T, 2T) make split votes rare and short-lived.
  randomized_election_timeout_ =
      election_timeout_ + static_cast<int>(rand_.Uniform(static_cast<uint64_t>(election_timeout_)));
}

bool Raft::PastElectionTimeout() const { return election_elapsed_ >= randomized_election_timeout_; }

void Raft::BecomeFollower(uint64_t term, uint64_t lead) {
  Reset(term);
  lead_ = lead;
  state_ = StateRole::kFollower;
  Log(LogLevel::kInfo, absl::Substitute("became follower at term $0", term_));
}

void Raft::BecomeCandidate() {
  RAFTKV_CHECK(state_ != StateRole::kLeader, "invalid transition [leader -> candidate]");
  Reset(term_ + 1);
  vote_ = id_;
  state_ = StateRole::kCandidate;
  Log(LogLevel::kInfo, absl::Substitute("became candidate at term $0", term_));
}

void Raft::BecomePreCandidate() {
  RAFTKV_CHECK(state_ != StateRole::kLeader, "invalid transition [leader -> pre-candidate]");
  // A pre-candidate changes neither its term nor its vote (thesis §9.6): it only asks
  // whether it could win, so a partitioned node cannot disrupt the cluster by raising terms.
  trk_.ResetVotes();
  lead_ = 0;
  state_ = StateRole::kPreCandidate;
  Log(LogLevel::kInfo, absl::Substitute("became pre-candidate at term $0", term_));
}

void Raft::BecomeLeader() {
  // Only a candidate that won its election may lead (Election Safety, §5.2).
  RAFTKV_CHECK(state_ != StateRole::kFollower, "invalid transition [follower -> leader]");
  Reset(term_);
  lead_ = id_;
  state_ = StateRole::kLeader;
  tracker::Progress& self = trk_.progress().at(id_);
  self.BecomeReplicate();
  self.set_recent_active(true);
  // Whether or not a configuration change is pending in the log, refusing new ones until
  // everything up to here is applied is safe and avoids scanning the tail.
  pending_conf_index_ = log_.LastIndex();
  // §5.4.2 / §8: the leader commits entries of earlier terms only by committing one of its
  // own, so it appends an empty entry at once. An empty entry has no payload, so it never
  // counts against the uncommitted-size limit.
  raftpb::Entry empty;
  const bool appended = AppendEntry({empty});
  RAFTKV_CHECK(appended, "the new leader's empty entry was refused");
  Log(LogLevel::kInfo, absl::Substitute("became leader at term $0", term_));
}

void Raft::Tick() {
  if (state_ == StateRole::kLeader) {
    TickHeartbeat();
  } else {
    TickElection();
  }
}

void Raft::TickElection() {
  ++election_elapsed_;
  if (Promotable() && PastElectionTimeout()) {
    election_elapsed_ = 0;
    raftpb::Message m;
    m.set_from(id_);
    m.set_msg_type(raftpb::MSG_HUP);
    (void)Step(std::move(m));
  }
}

void Raft::TickHeartbeat() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (election_elapsed_ >= election_timeout_) {
    election_elapsed_ = 0;
    if (check_quorum_) {
      raftpb::Message m;
      m.set_from(id_);
      m.set_msg_type(raftpb::MSG_CHECK_QUORUM);
      (void)Step(std::move(m));
    }
    // Thesis §3.10: a transfer that did not complete within an election timeout is
    // abandoned, and the leader accepts proposals again.
    if (state_ == StateRole::kLeader && lead_transferee_ != 0) {
      Log(LogLevel::kInfo,
          absl::Substitute("aborting leadership transfer to $0: timed out", lead_transferee_));
      AbortLeaderTransfer();
    }
  }
  if (state_ != StateRole::kLeader) return;
  if (heartbeat_elapsed_ >= heartbeat_timeout_) {
    heartbeat_elapsed_ = 0;
    raftpb::Message m;
    m.set_from(id_);
    m.set_msg_type(raftpb::MSG_BEAT);
    (void)Step(std::move(m));
  }
}

bool Raft::Promotable() const {
  auto it = trk_.progress().find(id_);
  return it != trk_.progress().end() && !it->second.is_learner() &&
         !log_.HasNextOrInProgressSnapshot();
}

bool Raft::HasUnappliedConfChanges() const {
  if (log_.applied() >= log_.committed()) return false;
  uint64_t lo = log_.applied() + 1;
  const uint64_t hi = log_.committed() + 1;
  while (lo < hi) {
    auto page = log_.Slice(lo, hi, 1 << 20);
    if (!page.ok() || page->empty()) {
      // Cannot tell: err on the side of not campaigning.
      Log(LogLevel::kError, "scanning for unapplied configuration changes failed");
      return true;
    }
    for (const raftpb::Entry& e : *page) {
      if (e.entry_type() != raftpb::ENTRY_NORMAL) return true;
    }
    lo += page->size();
  }
  return false;
}

void Raft::Hup(CampaignType t) {
  if (state_ == StateRole::kLeader) {
    Log(LogLevel::kDebug, "ignoring MsgHup because already leader");
    return;
  }
  if (!Promotable()) {
    Log(LogLevel::kWarn, "is unpromotable and can not campaign");
    return;
  }
  // A configuration change that is committed but not applied could change who may vote:
  // campaigning under the old configuration could elect a leader the new one would not.
  if (HasUnappliedConfChanges()) {
    Log(LogLevel::kWarn,
        "cannot campaign: there are committed but unapplied configuration changes");
    return;
  }
  Log(LogLevel::kInfo, absl::Substitute("is starting a new election at term $0", term_));
  Campaign(t);
}

void Raft::Campaign(CampaignType t) {
  raftpb::MessageType vote_msg;
  uint64_t term;
  if (t == CampaignType::kPreElection) {
    BecomePreCandidate();
    vote_msg = raftpb::MSG_REQUEST_PRE_VOTE;
    // Pre-votes ask about the term the node would campaign in, without entering it.
    term = term_ + 1;
  } else {
    BecomeCandidate();
    vote_msg = raftpb::MSG_REQUEST_VOTE;
    term = term_;
  }
  // The candidate votes for itself first; with a single voter that already wins.
  if (Poll(id_, VoteResponseType(vote_msg), true) == quorum::VoteResult::kWon) {
    if (t == CampaignType::kPreElection) {
      Campaign(CampaignType::kElection);
    } else {
      BecomeLeader();
    }
    return;
  }
  for (uint64_t id : trk_.VoterNodes()) {
    if (id == id_) continue;
    Log(LogLevel::kInfo,
        absl::Substitute("[logterm: $0, index: $1] sent $2 request to $3 at term $4",
                         log_.LastTerm(), log_.LastIndex(), MessageTypeName(vote_msg), id, term_));
    raftpb::Message m;
    m.set_to(id);
    m.set_term(term);
    m.set_msg_type(vote_msg);
    // §5.4.1: voters compare these with their own last entry.
    m.set_index(log_.LastIndex());
    m.set_log_term(log_.LastTerm());
    if (t == CampaignType::kTransfer) m.set_context(kCampaignTransfer);
    Send(std::move(m));
  }
}

quorum::VoteResult Raft::Poll(uint64_t id, raftpb::MessageType t, bool granted) {
  Log(LogLevel::kInfo, absl::Substitute("received $0 $1 from $2 at term $3", MessageTypeName(t),
                                        granted ? "" : "rejection", id, term_));
  trk_.RecordVote(id, granted);
  return trk_.TallyVotes(nullptr, nullptr);
}

absl::Status Raft::Step(raftpb::Message m) {
  const auto type = m.msg_type();
  const bool is_vote_request =
      type == raftpb::MSG_REQUEST_VOTE || type == raftpb::MSG_REQUEST_PRE_VOTE;
  if (m.term() == 0) {
    // Local message (or a forwarded proposal / read request): no term to compare.
  } else if (m.term() > term_) {
    if (is_vote_request) {
      // CheckQuorum (thesis §4.2.3): a node that heard from a leader within the minimum
      // election timeout ignores vote requests, so a node that was partitioned away cannot
      // depose a healthy leader. A transfer asked for by the leader itself is exempt.
      const bool force = m.context() == kCampaignTransfer;
      const bool in_lease = check_quorum_ && lead_ != 0 && election_elapsed_ < election_timeout_;
      if (!force && in_lease) {
        Log(LogLevel::kInfo,
            absl::Substitute("[logterm: $0, index: $1, vote: $2] ignored $3 from $4 [logterm: $5, "
                             "index: $6] at term $7: lease is not expired (remaining ticks: $8)",
                             log_.LastTerm(), log_.LastIndex(), vote_, MessageTypeName(type),
                             m.from(), m.log_term(), m.index(), term_,
                             election_timeout_ - election_elapsed_));
        return absl::OkStatus();
      }
    }
    if (type == raftpb::MSG_REQUEST_PRE_VOTE) {
      // Never change term in response to a pre-vote (thesis §9.6).
    } else if (type == raftpb::MSG_REQUEST_PRE_VOTE_RESPONSE && !m.reject()) {
      // A granted pre-vote carries the future term; the term changes only once the
      // pre-election is won.
    } else {
      // §5.1: a higher term means this node is out of date; it becomes a follower. Appends,
      // heartbeats and snapshots come from the leader of that term.
      Log(LogLevel::kInfo,
          absl::Substitute("received a $0 message with higher term from $1 [term: $2]",
                           MessageTypeName(type), m.from(), m.term()));
      const bool from_leader = type == raftpb::MSG_APPEND || type == raftpb::MSG_HEARTBEAT ||
                               type == raftpb::MSG_SNAPSHOT;
      BecomeFollower(m.term(), from_leader ? m.from() : 0);
    }
  } else if (m.term() < term_) {
    // §5.1: stale-term messages never change state. Some are answered so that the sender
    // learns the current term.
    if ((check_quorum_ || pre_vote_) &&
        (type == raftpb::MSG_HEARTBEAT || type == raftpb::MSG_APPEND)) {
      // A leader cut off in a minority cannot raise its term past ours through elections
      // (PreVote) or ignored votes (CheckQuorum) while we hold a lease, so without this
      // answer it could stay leader of its stale term forever; the answer deposes it.
      raftpb::Message resp;
      resp.set_to(m.from());
      resp.set_msg_type(raftpb::MSG_APPEND_RESPONSE);
      Send(std::move(resp));
    } else if (type == raftpb::MSG_REQUEST_PRE_VOTE) {
      // Rejecting with our term lets a pre-candidate behind us catch up on the term.
      Log(LogLevel::kInfo, absl::Substitute("rejected $0 from $1 at stale term $2",
                                            MessageTypeName(type), m.from(), m.term()));
      raftpb::Message resp;
      resp.set_to(m.from());
      resp.set_term(term_);
      resp.set_msg_type(raftpb::MSG_REQUEST_PRE_VOTE_RESPONSE);
      resp.set_reject(true);
      Send(std::move(resp));
    } else {
      Log(LogLevel::kDebug,
          absl::Substitute("ignored a $0 message with lower term from $1 [term: $2]",
                           MessageTypeName(type), m.from(), m.term()));
    }
    return absl::OkStatus();
  }

  switch (type) {
    case raftpb::MSG_HUP:
      Hup(pre_vote_ ? CampaignType::kPreElection : CampaignType::kElection);
      return absl::OkStatus();
    case raftpb::MSG_REQUEST_VOTE:
    case raftpb::MSG_REQUEST_PRE_VOTE:
      HandleVoteRequest(m);
      return absl::OkStatus();
    default:
      break;
  }
  switch (state_) {
    case StateRole::kLeader:
      return StepLeader(m);
    case StateRole::kCandidate:
    case StateRole::kPreCandidate:
      return StepCandidate(m);
    case StateRole::kFollower:
      return StepFollower(m);
  }
  return absl::OkStatus();
}

void Raft::HandleVoteRequest(const raftpb::Message& m) {
  const bool pre = m.msg_type() == raftpb::MSG_REQUEST_PRE_VOTE;
  // One vote per term (§5.2): a repeated request from the node we voted for is granted
  // again; otherwise only a node that has not voted and knows no leader may vote. A pre-vote
  // for a future term is answered as if that term had begun (thesis §9.6).
  const bool can_vote =
      vote_ == m.from() || (vote_ == 0 && lead_ == 0) || (pre && m.term() > term_);
  // §5.4.1: only for a candidate whose log is at least as up to date as ours.
  if (can_vote && log_.IsUpToDate(m.index(), m.log_term())) {
    Log(LogLevel::kInfo,
        absl::Substitute("[logterm: $0, index: $1, vote: $2] cast $3 for $4 [logterm: $5, index: "
                         "$6] at term $7",
                         log_.LastTerm(), log_.LastIndex(), vote_, MessageTypeName(m.msg_type()),
                         m.from(), m.log_term(), m.index(), term_));
    // The response carries the candidate's term, not ours: for a pre-vote ours is lower,
    // and the candidate must not mistake the answer for a stale one.
    raftpb::Message resp;
    resp.set_to(m.from());
    resp.set_term(m.term());
    resp.set_msg_type(VoteResponseType(m.msg_type()));
    if (!pre) {
      // The vote goes into the hard state of the next Ready, persisted before this
      // response (a persisted_messages entry) is sent.
      election_elapsed_ = 0;
      vote_ = m.from();
    }
    Send(std::move(resp));
  } else {
    Log(LogLevel::kInfo,
        absl::Substitute("[logterm: $0, index: $1, vote: $2] rejected $3 from $4 [logterm: $5, "
                         "index: $6] at term $7",
                         log_.LastTerm(), log_.LastIndex(), vote_, MessageTypeName(m.msg_type()),
                         m.from(), m.log_term(), m.index(), term_));
    raftpb::Message resp;
    resp.set_to(m.from());
    resp.set_term(term_);
    resp.set_msg_type(VoteResponseType(m.msg_type()));
    resp.set_reject(true);
    Send(std::move(resp));
  }
}

raftpb::ConfState Raft::ApplyConfChange(const raftpb::ConfChangeV2& cc) {
  confchange::Changer changer(trk_, log_.LastIndex());
  absl::StatusOr<confchange::ChangeResult> result;
  bool auto_leave = false;
  if (confchange::LeaveJointRequested(cc)) {
    result = changer.LeaveJoint();
  } else if (confchange::EnterJointRequired(cc, &auto_leave)) {
    std::vector<raftpb::ConfChangeSingle> changes(cc.changes().begin(), cc.changes().end());
    result = changer.EnterJoint(auto_leave, changes);
  } else {
    std::vector<raftpb::ConfChangeSingle> changes(cc.changes().begin(), cc.changes().end());
    result = changer.Simple(changes);
  }
  if (!result.ok()) {
    Log(LogLevel::kError, "ignoring invalid configuration change: " + result.status().ToString());
    return trk_.GetConfState();
  }
  return SwitchToConfig(std::move(result->config), std::move(result->progress));
}

raftpb::ConfState Raft::SwitchToConfig(tracker::TrackerConfig cfg, tracker::ProgressMap progress) {
  trk_.config() = std::move(cfg);
  trk_.progress() = std::move(progress);
  Log(LogLevel::kInfo, "switched to configuration " + trk_.config().String());
  raftpb::ConfState cs = trk_.GetConfState();
  auto self = trk_.progress().find(id_);
  const bool present = self != trk_.progress().end();
  is_learner_ = present && self->second.is_learner();
  if ((!present || is_learner_) && state_ == StateRole::kLeader) {
    // The change that removed (or demoted) this leader is committed: it was applied, which
    // happens only after commit. It stops leading now (thesis §4.2.2); the remaining voters
    // elect a new leader when their election timeout fires.
    BecomeFollower(term_, 0);
    return cs;
  }
  if (state_ != StateRole::kLeader || cs.voters().empty()) return cs;
  // The quorum may have shrunk, so something may have become committed.
  if (MaybeCommit()) {
    BcastAppend();
  } else {
    // Newly added peers need their first probe.
    for (auto& [id, pr] : trk_.progress()) {
      if (id != id_) MaybeSendAppend(id, /*send_if_empty=*/false);
    }
  }
  if (lead_transferee_ != 0 && !trk_.config().voters.Contains(lead_transferee_)) {
    AbortLeaderTransfer();
  }
  return cs;
}

void Raft::OnPersisted(uint64_t index, uint64_t term) {
  const bool still_ours = log_.MatchTerm(index, term);
  log_.StableTo(index, term);
  if (!still_ours || state_ != StateRole::kLeader) return;
  auto self = trk_.progress().find(id_);
  if (self == trk_.progress().end()) return;
  // The leader's own acknowledgement (§5.3 counts the leader among the majority): only now
  // that the entries are durable.
  if (self->second.MaybeUpdate(index) && MaybeCommit()) {
    ReleasePendingReadIndexMessages();
    BcastAppend();
  }
}

void Raft::OnSnapshotPersisted(uint64_t index) {
  log_.StableSnapTo(index);
  if (index > log_.applied()) log_.AppliedTo(index);
}

void Raft::OnApplied(uint64_t index, uint64_t applied_bytes) {
  if (index > log_.applied()) log_.AppliedTo(index);
  ReduceUncommittedSize(applied_bytes);
  // Auto-leave (thesis §4.3): once the joint configuration is applied, the leader proposes
  // the empty change that leaves it. An empty ConfChangeV2 has no payload, so the size limit
  // never refuses it; a leadership transfer may, and then the next Advance retries.
  if (state_ == StateRole::kLeader && trk_.config().auto_leave &&
      log_.applied() >= pending_conf_index_) {
    raftpb::Message m;
    m.set_from(id_);
    m.set_msg_type(raftpb::MSG_PROPOSE);
    raftpb::Entry* e = m.add_entries();
    e->set_entry_type(raftpb::ENTRY_CONF_CHANGE_V2);
    if (absl::Status s = Step(std::move(m)); !s.ok()) {
      Log(LogLevel::kDebug, "not leaving the joint configuration yet: " + s.ToString());
    } else {
      Log(LogLevel::kInfo, "initiated automatic transition out of the joint configuration");
    }
  }
}

}  // namespace raftkv::raft
