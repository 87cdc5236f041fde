#include "raft/quorum/majority.h"

#include <algorithm>

namespace raftkv::raft::quorum {

const char* VoteResultName(VoteResult result) {
  switch (result) {
    case VoteResult::kPending:
      return "pending";
    case VoteResult::kLost:
      return "lost";
    case VoteResult::kWon:
      return "won";
  }
  return "unknown";
}

uint64_t MajorityConfig::CommittedIndex(const AckedIndexer& acked) const {
  if (voters_.empty()) return kUnboundedIndex;
  // Small clusters are the common case: avoid the heap for up to 7 voters.
  uint64_t stack_buf[7];
  std::vector<uint64_t> heap_buf;
  uint64_t* indexes = stack_buf;
  if (voters_.size() > std::size(stack_buf)) {
    heap_buf.resize(voters_.size());
    indexes = heap_buf.data();
  }
  size_t n = 0;
  for (uint64_t id : voters_) indexes[n++] = acked.AckedIndex(id).value_or(0);
  std::sort(indexes, indexes + n);
  // With indexes sorted ascending, the entry at n - (n/2 + 1) is acknowledged by itself and
  // every voter above it: exactly a majority.
  return indexes[n - (n / 2 + 1)];
}

VoteResult MajorityConfig::GetVoteResult(const VoteMap& votes) const {
  if (voters_.empty()) return VoteResult::kWon;
  size_t yes = 0;
  size_t missing = 0;
  for (uint64_t id : voters_) {
    auto it = votes.find(id);
    if (it == votes.end()) {
      ++missing;
    } else if (it->second) {
      ++yes;
    }
  }
  const size_t quorum = voters_.size() / 2 + 1;
  if (yes >= quorum) return VoteResult::kWon;
  if (yes + missing >= quorum) return VoteResult::kPending;
  return VoteResult::kLost;
}

std::string MajorityConfig::String() const {
  std::string out = "(";
  bool first = true;
  for (uint64_t id : voters_) {
    if (!first) out += ' ';
    first = false;
    out += std::to_string(id);
  }
  out += ')';
  return out;
}

}  // namespace raftkv::raft::quorum
