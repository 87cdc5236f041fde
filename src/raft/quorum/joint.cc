#include "raft/quorum/joint.h"

#include <algorithm>

namespace raftkv::raft::quorum {

std::set<uint64_t> JointConfig::IDs() const {
  std::set<uint64_t> ids = halves_[0].voters();
  ids.insert(halves_[1].voters().begin(), halves_[1].voters().end());
  return ids;
}

uint64_t JointConfig::CommittedIndex(const AckedIndexer& acked) const {
  return std::min(halves_[0].CommittedIndex(acked), halves_[1].CommittedIndex(acked));
}

VoteResult JointConfig::GetVoteResult(const VoteMap& votes) const {
  const VoteResult r1 = halves_[0].GetVoteResult(votes);
  const VoteResult r2 = halves_[1].GetVoteResult(votes);
  if (r1 == r2) return r1;
  if (r1 == VoteResult::kLost || r2 == VoteResult::kLost) return VoteResult::kLost;
  // One won and the other is pending: the whole is pending.
  return VoteResult::kPending;
}

std::string JointConfig::String() const {
  if (!IsJoint()) return halves_[0].String();
  return halves_[0].String() + "&&" + halves_[1].String();
}

}  // namespace raftkv::raft::quorum
