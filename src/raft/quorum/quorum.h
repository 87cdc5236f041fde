// Shared vocabulary of the quorum maths: vote results and the lookup of acknowledged indexes.
//
// Everything under quorum/ is pure arithmetic over sets of node ids: no logging, no state
// beyond the configuration. Thread-compatible (const methods may be called concurrently).
#pragma once

#include <cstdint>
#include <map>
#include <optional>

namespace raftkv::raft::quorum {

// Outcome of an election as seen from the votes received so far.
enum class VoteResult {
  kPending,  // neither a quorum of yes nor a quorum of no yet
  kLost,     // a quorum can no longer be reached
  kWon,      // a quorum voted yes
};
const char* VoteResultName(VoteResult result);

// Answers "which log index has voter `id` acknowledged?", or nothing when the voter has not
// acknowledged anything (it then counts as index 0).
class AckedIndexer {
 public:
  virtual ~AckedIndexer() = default;
  virtual std::optional<uint64_t> AckedIndex(uint64_t id) const = 0;
};

// An AckedIndexer backed by a map; convenient in tests.
class MapAckIndexer final : public AckedIndexer {
 public:
  explicit MapAckIndexer(std::map<uint64_t, uint64_t> acked) : acked_(std::move(acked)) {}
  std::optional<uint64_t> AckedIndex(uint64_t id) const override {
    auto it = acked_.find(id);
    if (it == acked_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::map<uint64_t, uint64_t> acked_;
};

// Votes received, by voter id: true for granted, false for rejected. Absent means no answer.
using VoteMap = std::map<uint64_t, bool>;

// CommittedIndex() of an empty configuration: it must not constrain a joint configuration
// whose other half is non-empty, so it is the largest index.
inline constexpr uint64_t kUnboundedIndex = UINT64_MAX;

}  // namespace raftkv::raft::quorum
