// The step function of candidates and pre-candidates: counting votes (§5.2) and yielding to
// a leader of the current term.
#include "absl/strings/substitute.h"
#include "raft/errors.h"
#include "raft/raft.h"
#include "raft/util.h"

namespace raftkv::raft {

absl::Status Raft::StepCandidate(raftpb::Message& m) {
  // A pre-candidate only counts pre-vote answers and a candidate only real votes: a stale
  // answer of the other kind (from an earlier round) must not be mistaken for one.
  const raftpb::MessageType my_vote_resp = state_ == StateRole::kPreCandidate
                                               ? raftpb::MSG_REQUEST_PRE_VOTE_RESPONSE
                                               : raftpb::MSG_REQUEST_VOTE_RESPONSE;
  switch (m.msg_type()) {
    case raftpb::MSG_PROPOSE:
      return ProposalDroppedError("no leader (an election is in progress); retry later");
    case raftpb::MSG_APPEND:
      // §5.2: an append of the current term proves another node won this term.
      BecomeFollower(m.term(), m.from());
      HandleAppendEntries(m);
      break;
    case raftpb::MSG_HEARTBEAT:
      BecomeFollower(m.term(), m.from());
      HandleHeartbeat(m);
      break;
    case raftpb::MSG_SNAPSHOT:
      BecomeFollower(m.term(), m.from());
      HandleSnapshot(m);
      break;
    case raftpb::MSG_TIMEOUT_NOW:
      Log(LogLevel::kDebug,
          absl::Substitute("ignored MsgTimeoutNow from $0: not a follower", m.from()));
      break;
    default:
      if (m.msg_type() != my_vote_resp) break;
      switch (Poll(m.from(), m.msg_type(), !m.reject())) {
        case quorum::VoteResult::kWon:
          if (state_ == StateRole::kPreCandidate) {
            // The pre-election shows this node can win: now run the real election.
            Campaign(CampaignType::kElection);
          } else {
            BecomeLeader();
            BcastAppend();
          }
          break;
        case quorum::VoteResult::kLost:
          // Stay in the term; a new election (in a higher term, with a fresh random
          // timeout) starts when the election timer fires again.
          BecomeFollower(term_, 0);
          break;
        case quorum::VoteResult::kPending:
          break;
      }
      break;
  }
  return absl::OkStatus();
}

}  // namespace raftkv::raft
