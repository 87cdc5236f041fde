// ProgressTracker: the leader-side view of the cluster — the active configuration, each peer's
// Progress, and the votes of the current election.
//
// Thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "raft/quorum/joint.h"
#include "raft/tracker/progress.h"
#include "raftkv/raftpb/raft.pb.h"

namespace raftkv::raft::tracker {

// A membership configuration (paper §6, thesis §4.3).
struct TrackerConfig {
  // Incoming and (while joint) outgoing voters.
  quorum::JointConfig voters;
  // Leave the joint configuration automatically once it is committed.
  bool auto_leave = false;
  // Learners: receive the log but never vote. Invariant: disjoint from both voter halves.
  std::set<uint64_t> learners;
  // Outgoing voters that become learners when the joint configuration is left. They stay
  // voters of the outgoing half until then. Invariant: each is an outgoing voter.
  std::set<uint64_t> learners_next;

  std::string String() const;
  bool operator==(const TrackerConfig&) const = default;
};

// Ordered by id so that iteration (and thus message order) is deterministic.
using ProgressMap = std::map<uint64_t, Progress>;

class ProgressTracker {
 public:
  ProgressTracker(size_t max_inflight, uint64_t max_inflight_bytes);

  TrackerConfig& config() { return config_; }
  const TrackerConfig& config() const { return config_; }
  ProgressMap& progress() { return progress_; }
  const ProgressMap& progress() const { return progress_; }
  size_t max_inflight() const { return max_inflight_; }
  uint64_t max_inflight_bytes() const { return max_inflight_bytes_; }

  raftpb::ConfState GetConfState() const;

  // True when the only voter is a single node (commit on its own acknowledgement).
  bool IsSingleton() const;

  // The largest index acknowledged by a quorum of voters (joint-aware).
  uint64_t Committed() const;

  // Visits every progress in id order.
  void Visit(const std::function<void(uint64_t id, Progress& pr)>& fn);

  // True if a quorum of voters was recently active (CheckQuorum, thesis §6.2).
  bool QuorumActive() const;

  std::vector<uint64_t> VoterNodes() const;
  std::vector<uint64_t> LearnerNodes() const;

  void ResetVotes() { votes_.clear(); }
  // Records id's answer; only the first answer of each voter counts.
  void RecordVote(uint64_t id, bool granted);
  // Counts the answers of current voters and returns the election's outcome.
  quorum::VoteResult TallyVotes(int* granted, int* rejected) const;

 private:
  TrackerConfig config_;
  ProgressMap progress_;
  quorum::VoteMap votes_;
  size_t max_inflight_;
  uint64_t max_inflight_bytes_;
};

}  // namespace raftkv::raft::tracker
