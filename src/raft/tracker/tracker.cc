#include "raft/tracker/tracker.h"

namespace raftkv::raft::tracker {
namespace {

class ProgressAckIndexer final : public quorum::AckedIndexer {
 public:
  explicit ProgressAckIndexer(const ProgressMap& progress) : progress_(progress) {}
  std::optional<uint64_t> AckedIndex(uint64_t id) const override {
    auto it = progress_.find(id);
    if (it == progress_.end()) return std::nullopt;
    return it->second.match();
  }

 private:
  const ProgressMap& progress_;
};

std::string JoinIds(const std::set<uint64_t>& ids) {
  std::string out;
  for (uint64_t id : ids) {
    if (!out.empty()) out += ' ';
    out += std::to_string(id);
  }
  return out;
}

}  // namespace

std::string TrackerConfig::String() const {
  std::string out = "voters=" + voters.String();
  if (!learners.empty()) out += " learners=(" + JoinIds(learners) + ")";
  if (!learners_next.empty()) out += " learners_next=(" + JoinIds(learners_next) + ")";
  if (auto_leave) out += " autoleave";
  return out;
}

ProgressTracker::ProgressTracker(size_t max_inflight, uint64_t max_inflight_bytes)
    : max_inflight_(max_inflight), max_inflight_bytes_(max_inflight_bytes) {}

raftpb::ConfState ProgressTracker::GetConfState() const {
  raftpb::ConfState cs;
  for (uint64_t id : config_.voters.incoming().voters()) cs.add_voters(id);
  for (uint64_t id : config_.voters.outgoing().voters()) cs.add_voters_outgoing(id);
  for (uint64_t id : config_.learners) cs.add_learners(id);
  for (uint64_t id : config_.learners_next) cs.add_learners_next(id);
  cs.set_auto_leave(config_.auto_leave);
  return cs;
}

bool ProgressTracker::IsSingleton() const {
  return config_.voters.incoming().size() == 1 && !config_.voters.IsJoint();
}

uint64_t ProgressTracker::Committed() const {
  return config_.voters.CommittedIndex(ProgressAckIndexer(progress_));
}

void ProgressTracker::Visit(const std::function<void(uint64_t, Progress&)>& fn) {
  for (auto& [id, pr] : progress_) fn(id, pr);
}

bool ProgressTracker::QuorumActive() const {
  quorum::VoteMap votes;
  for (const auto& [id, pr] : progress_) {
    if (pr.is_learner()) continue;
    votes[id] = pr.recent_active();
  }
  return config_.voters.GetVoteResult(votes) == quorum::VoteResult::kWon;
}

std::vector<uint64_t> ProgressTracker::VoterNodes() const {
  const std::set<uint64_t> ids = config_.voters.IDs();
  return {ids.begin(), ids.end()};
}

std::vector<uint64_t> ProgressTracker::LearnerNodes() const {
  return {config_.learners.begin(), config_.learners.end()};
}

void ProgressTracker::RecordVote(uint64_t id, bool granted) { votes_.emplace(id, granted); }

quorum::VoteResult ProgressTracker::TallyVotes(int* granted, int* rejected) const {
  int yes = 0;
  int no = 0;
  for (const auto& [id, pr] : progress_) {
    if (pr.is_learner()) continue;
    auto it = votes_.find(id);
    if (it == votes_.end()) continue;
    if (it->second) {
      ++yes;
    } else {
      ++no;
    }
  }
  if (granted != nullptr) *granted = yes;
  if (rejected != nullptr) *rejected = no;
  return config_.voters.GetVoteResult(votes_);
}

}  // namespace raftkv::raft::tracker
