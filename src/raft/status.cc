#include "raftkv/raft/status.h"

#include "raftkv/raft/ready.h"

namespace raftkv::raft {

const char* StateRoleName(StateRole role) {
  switch (role) {
    case StateRole::kFollower:
      return "StateFollower";
    case StateRole::kCandidate:
      return "StateCandidate";
    case StateRole::kLeader:
      return "StateLeader";
    case StateRole::kPreCandidate:
      return "StatePreCandidate";
  }
  return "StateUnknown";
}

const char* ProgressStateName(ProgressState state) {
  switch (state) {
    case ProgressState::kProbe:
      return "StateProbe";
    case ProgressState::kReplicate:
      return "StateReplicate";
    case ProgressState::kSnapshot:
      return "StateSnapshot";
  }
  return "StateUnknown";
}

}  // namespace raftkv::raft
