// Raft: the consensus state machine of one node (Ongaro & Ousterhout, "In Search of an
// Understandable Consensus Algorithm", and Ongaro's thesis).
//
// Inputs are Step(message) and Tick(); outputs accumulate in the node (messages to send,
// entries to persist, read states) until RawNode hands them out in a Ready. The step logic is
// split by role: raft.cc holds what every role shares (term handling, voting, transitions,
// configuration), raft_leader.cc / raft_candidate.cc / raft_follower.cc the per-role steps.
//
// Persistence contract (see ready.h): entries appended here are "unstable" until the
// application reports them persisted with OnPersisted at Advance. The leader counts its own
// acknowledgement of an entry only then, never at append time: a commit index it computes
// (and sends to followers in heartbeats and appends) therefore only ever counts copies that
// are durable, including its own.
//
// Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/rand.h"
#include "raft/raft_log.h"
#include "raft/read_only.h"
#include "raft/tracker/tracker.h"
#include "raftkv/raft/config.h"
#include "raftkv/raft/ready.h"
#include "raftkv/raft/status.h"
#include "raftkv/raftpb/raft.pb.h"

namespace raftkv::raft {

// Context of vote requests sent on leadership transfer: voters must not ignore them because
// they still hear from a leader (thesis §3.10, §4.2.3).
inline constexpr char kCampaignTransfer[] = "CampaignTransfer";

class Raft {
 public:
  static absl::StatusOr<std::unique_ptr<Raft>> Create(const Config& config);

  // Processes one message (local or from a peer). Returns an error only for proposals that
  // were refused; other messages that cannot be used are dropped, as the protocol allows.
  absl::Status Step(raftpb::Message m);
  void Tick();

  uint64_t id() const { return id_; }
  uint64_t term() const { return term_; }
  uint64_t vote() const { return vote_; }
  uint64_t lead() const { return lead_; }
  StateRole state() const { return state_; }
  bool is_learner() const { return is_learner_; }
  uint64_t lead_transferee() const { return lead_transferee_; }
  uint64_t pending_conf_index() const { return pending_conf_index_; }
  int randomized_election_timeout() const { return randomized_election_timeout_; }
  RaftLog& log() { return log_; }
  const RaftLog& log() const { return log_; }
  tracker::ProgressTracker& tracker() { return trk_; }
  const tracker::ProgressTracker& tracker() const { return trk_; }

  SoftState GetSoftState() const { return SoftState{lead_, state_}; }
  raftpb::HardState GetHardState() const;
  Status GetStatus() const;

  // Output queues. `messages` may be sent at once; `persisted_messages` only after this
  // node's pending entries and hard state are durable (ready.h).
  std::vector<raftpb::Message>& messages() { return msgs_; }
  std::vector<raftpb::Message>& persisted_messages() { return msgs_after_append_; }
  std::vector<ReadState>& read_states() { return read_states_; }

  // Applies a committed configuration change and returns the new configuration. An invalid
  // change (it was validated against an older configuration) is logged and ignored.
  raftpb::ConfState ApplyConfChange(const raftpb::ConfChangeV2& cc);

  // The entries up to (index, term) are durable. On a leader this is its own acknowledgement
  // of them, which may advance the commit index.
  void OnPersisted(uint64_t index, uint64_t term);
  // The snapshot at `index` is durable and applied.
  void OnSnapshotPersisted(uint64_t index);
  // The application applied committed entries up to `index` (payload `bytes` in total).
  void OnApplied(uint64_t index, uint64_t applied_bytes);

 private:
  explicit Raft(const Config& config);

  enum class CampaignType { kPreElection, kElection, kTransfer };

  // --- raft.cc: shared ---
  void Send(raftpb::Message m);
  void BecomeFollower(uint64_t term, uint64_t lead);
  void BecomeCandidate();
  void BecomePreCandidate();
  void BecomeLeader();
  void Reset(uint64_t term);
  void ResetRandomizedElectionTimeout();
  bool PastElectionTimeout() const;
  void TickElection();
  void TickHeartbeat();
  void Hup(CampaignType t);
  void Campaign(CampaignType t);
  quorum::VoteResult Poll(uint64_t id, raftpb::MessageType t, bool granted);
  void HandleVoteRequest(const raftpb::Message& m);
  bool Promotable() const;
  bool HasUnappliedConfChanges() const;
  void LoadState(const raftpb::HardState& hs);
  raftpb::ConfState SwitchToConfig(tracker::TrackerConfig cfg, tracker::ProgressMap progress);
  void AbortLeaderTransfer() { lead_transferee_ = 0; }
  uint64_t PersistedIndex() const;
  void Log(LogLevel level, const std::string& message) const;

  // --- raft_leader.cc ---
  absl::Status StepLeader(raftpb::Message& m);
  absl::Status LeaderPropose(raftpb::Message& m);
  void LeaderHandleAppendResponse(const raftpb::Message& m, tracker::Progress& pr);
  void LeaderHandleHeartbeatResponse(const raftpb::Message& m, tracker::Progress& pr);
  void LeaderHandleTransfer(const raftpb::Message& m, tracker::Progress& pr);
  bool AppendEntry(std::vector<raftpb::Entry> entries);
  bool MaybeCommit();
  void SendAppend(uint64_t to) { MaybeSendAppend(to, /*send_if_empty=*/true); }
  bool MaybeSendAppend(uint64_t to, bool send_if_empty);
  bool MaybeSendSnapshot(uint64_t to, tracker::Progress& pr);
  // An append without entries at the follower's next-1, sent even when the window is full.
  void SendEmptyAppend(uint64_t to);
  void SendHeartbeat(uint64_t to, const std::string& ctx);
  void SendTimeoutNow(uint64_t to);
  void BcastAppend();
  void BcastHeartbeat();
  void BcastHeartbeatWithCtx(const std::string& ctx);
  bool IncreaseUncommittedSize(const std::vector<raftpb::Entry>& entries);
  void ReduceUncommittedSize(uint64_t bytes);
  bool CommittedEntryInCurrentTerm() const;
  void SendReadIndexResponse(const raftpb::Message& m);
  std::optional<raftpb::Message> ResponseToReadIndexReq(const raftpb::Message& req,
                                                        uint64_t read_index);
  void ReleasePendingReadIndexMessages();

  // --- raft_candidate.cc ---
  absl::Status StepCandidate(raftpb::Message& m);

  // --- raft_follower.cc ---
  absl::Status StepFollower(raftpb::Message& m);
  void HandleAppendEntries(const raftpb::Message& m);
  void HandleHeartbeat(const raftpb::Message& m);
  void HandleSnapshot(const raftpb::Message& m);
  bool Restore(const raftpb::Snapshot& s);

  uint64_t id_;
  uint64_t term_ = 0;
  uint64_t vote_ = 0;
  uint64_t lead_ = 0;
  StateRole state_ = StateRole::kFollower;
  bool is_learner_ = false;

  Logger* logger_;
  DiscardLogger discard_logger_;
  RaftLog log_;
  tracker::ProgressTracker trk_;
  ReadOnly read_only_;
  base::Rand rand_;

  std::vector<raftpb::Message> msgs_;
  std::vector<raftpb::Message> msgs_after_append_;
  std::vector<ReadState> read_states_;

  uint64_t max_msg_size_bytes_;
  uint64_t max_uncommitted_size_bytes_;
  // Payload bytes appended by this leader and not yet handed out as committed.
  uint64_t uncommitted_size_bytes_ = 0;

  // Non-zero while a leadership transfer to this node is in progress (thesis §3.10).
  uint64_t lead_transferee_ = 0;
  // Index of the latest configuration change this leader proposed; a new change is accepted
  // only once the log is applied past it (at most one pending change, thesis §4.1).
  uint64_t pending_conf_index_ = 0;
  // ReadIndex requests that arrived before this leader committed an entry of its term.
  std::vector<raftpb::Message> pending_read_index_messages_;

  // Ticks since the last election timeout reset (followers/candidates: since hearing from a
  // leader or granting a vote; leaders: since the last CheckQuorum round).
  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  bool check_quorum_;
  bool pre_vote_;
  bool disable_proposal_forwarding_;
  int heartbeat_timeout_;
  int election_timeout_;
  // Drawn from [election_timeout_, 2 * election_timeout_) at every Reset (§5.2).
  int randomized_election_timeout_ = 0;
};

}  // namespace raftkv::raft
