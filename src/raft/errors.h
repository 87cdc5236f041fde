// Tagged error statuses of the consensus core.
//
// Each error kind is an absl::Status carrying a payload naming the kind, so the public Is*
// predicates recognise exactly the errors the core produced, whatever their code.
// Thread-safe (stateless).
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace raftkv::raft {

absl::Status TaggedError(absl::StatusCode code, std::string_view kind, std::string_view message);
bool HasTag(const absl::Status& s, std::string_view kind);

inline constexpr std::string_view kProposalDroppedTag = "proposal_dropped";
inline constexpr std::string_view kStepLocalMessageTag = "step_local_message";
inline constexpr std::string_view kStepPeerNotFoundTag = "step_peer_not_found";

// A proposal was not appended; `why` says what the caller can do about it.
absl::Status ProposalDroppedError(std::string_view why);

}  // namespace raftkv::raft
