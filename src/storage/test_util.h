// Helpers shared by the storage tests. Test-only.
#pragma once

#include <string>
#include <vector>

#include "raftkv/raft/logger.h"
#include "raftkv/raftpb/raft.pb.h"

namespace raftkv::storage::testing {

inline raftpb::Entry MakeEntry(uint64_t index, uint64_t term, std::string data = {}) {
  raftpb::Entry e;
  e.set_index(index);
  e.set_term(term);
  e.set_data(data.empty() ? "entry-" + std::to_string(index) + "-" + std::to_string(term)
                          : std::move(data));
  return e;
}

// Entries [lo, hi) of one term.
inline std::vector<raftpb::Entry> MakeEntries(uint64_t lo, uint64_t hi, uint64_t term) {
  std::vector<raftpb::Entry> out;
  for (uint64_t i = lo; i < hi; ++i) out.push_back(MakeEntry(i, term));
  return out;
}

inline raftpb::HardState MakeHardState(uint64_t term, uint64_t vote, uint64_t commit) {
  raftpb::HardState hs;
  hs.set_term(term);
  hs.set_vote(vote);
  hs.set_commit(commit);
  return hs;
}

// Keeps every line logged, for asserting on recovery messages.
class CapturingLogger final : public raft::Logger {
 public:
  void Log(raft::LogLevel, std::string_view message) override { lines.emplace_back(message); }
  bool Contains(std::string_view needle) const {
    for (const std::string& l : lines) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  }
  std::vector<std::string> lines;
};

}  // namespace raftkv::storage::testing
