// A majority configuration: one set of voters, decisions by simple majority (Raft §5.2, §5.3).
//
// Thread-compatible value type.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "raft/quorum/quorum.h"

namespace raftkv::raft::quorum {

class MajorityConfig {
 public:
  MajorityConfig() = default;
  explicit MajorityConfig(std::set<uint64_t> voters) : voters_(std::move(voters)) {}

  const std::set<uint64_t>& voters() const { return voters_; }
  std::set<uint64_t>& mutable_voters() { return voters_; }
  size_t size() const { return voters_.size(); }
  bool empty() const { return voters_.empty(); }
  bool Contains(uint64_t id) const { return voters_.count(id) != 0; }

  // Voters in ascending order.
  std::vector<uint64_t> Slice() const { return {voters_.begin(), voters_.end()}; }

  // The largest index acknowledged by a majority of the voters: the (n/2+1)-th largest acked
  // index, with missing acknowledgements counting as 0. kUnboundedIndex when there are no
  // voters, so that an empty half never holds back a joint configuration.
  uint64_t CommittedIndex(const AckedIndexer& acked) const;

  // kWon once a majority voted yes, kLost once a majority can no longer say yes, else
  // kPending. An empty configuration wins every vote (it places no constraint).
  VoteResult GetVoteResult(const VoteMap& votes) const;

  // "(1 2 3)".
  std::string String() const;

  bool operator==(const MajorityConfig&) const = default;

 private:
  std::set<uint64_t> voters_;
};

}  // namespace raftkv::raft::quorum
