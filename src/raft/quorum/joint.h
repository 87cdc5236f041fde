// A joint configuration: the incoming and outgoing voter sets of joint consensus (paper §6,
// thesis §4.3). Every decision needs a majority of *both* halves; when not in a joint state the
// outgoing half is empty and places no constraint, so the same code serves both cases.
//
// Thread-compatible value type.
#pragma once

#include <array>
#include <cstdint>
#include <set>
#include <string>

#include "raft/quorum/majority.h"

namespace raftkv::raft::quorum {

class JointConfig {
 public:
  JointConfig() = default;
  JointConfig(MajorityConfig incoming, MajorityConfig outgoing)
      : halves_{std::move(incoming), std::move(outgoing)} {}

  const MajorityConfig& incoming() const { return halves_[0]; }
  const MajorityConfig& outgoing() const { return halves_[1]; }
  MajorityConfig& mutable_incoming() { return halves_[0]; }
  MajorityConfig& mutable_outgoing() { return halves_[1]; }
  bool IsJoint() const { return !halves_[1].empty(); }

  // Every voter of either half, ascending.
  std::set<uint64_t> IDs() const;
  bool Contains(uint64_t id) const { return halves_[0].Contains(id) || halves_[1].Contains(id); }

  // The largest index committed in both halves: the minimum of the two.
  uint64_t CommittedIndex(const AckedIndexer& acked) const;

  // Won only if both halves won; lost as soon as either lost.
  VoteResult GetVoteResult(const VoteMap& votes) const;

  // "(1 2 3)" or "(1 2 3)&&(1 2)" while joint.
  std::string String() const;

  bool operator==(const JointConfig&) const = default;

 private:
  std::array<MajorityConfig, 2> halves_;
};

}  // namespace raftkv::raft::quorum
