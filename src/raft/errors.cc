#include "raft/errors.h"

#include <string>

#include "absl/strings/cord.h"
#include "raftkv/raft/raw_node.h"
#include "raftkv/raft/storage.h"

namespace raftkv::raft {
namespace {

constexpr std::string_view kTypeUrl = "raftkv.raft/error";

constexpr std::string_view kCompactedTag = "compacted";
constexpr std::string_view kUnavailableTag = "unavailable";
constexpr std::string_view kSnapshotOutOfDateTag = "snapshot_out_of_date";
constexpr std::string_view kSnapshotTemporarilyUnavailableTag = "snapshot_temporarily_unavailable";

// Debian's abseil has its own string_view, distinct from std::string_view.
absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

absl::Status TaggedError(absl::StatusCode code, std::string_view kind, std::string_view message) {
  absl::Status s(code, ToAbsl(message));
  s.SetPayload(ToAbsl(kTypeUrl), absl::Cord(ToAbsl(kind)));
  return s;
}

bool HasTag(const absl::Status& s, std::string_view kind) {
  if (s.ok()) return false;
  auto payload = s.GetPayload(ToAbsl(kTypeUrl));
  return payload.has_value() && *payload == ToAbsl(kind);
}

absl::Status ProposalDroppedError(std::string_view why) {
  return TaggedError(absl::StatusCode::kUnavailable, kProposalDroppedTag,
                     std::string("raft proposal dropped: ") + std::string(why));
}

absl::Status CompactedError() {
  return TaggedError(absl::StatusCode::kOutOfRange, kCompactedTag,
                     "requested index is unavailable due to compaction");
}
absl::Status UnavailableError() {
  return TaggedError(absl::StatusCode::kOutOfRange, kUnavailableTag,
                     "requested entry at index is unavailable");
}
absl::Status SnapshotOutOfDateError() {
  return TaggedError(absl::StatusCode::kFailedPrecondition, kSnapshotOutOfDateTag,
                     "requested index is older than the existing snapshot");
}
absl::Status SnapshotTemporarilyUnavailableError() {
  return TaggedError(absl::StatusCode::kUnavailable, kSnapshotTemporarilyUnavailableTag,
                     "snapshot is temporarily unavailable");
}
bool IsCompacted(const absl::Status& s) { return HasTag(s, kCompactedTag); }
bool IsUnavailable(const absl::Status& s) { return HasTag(s, kUnavailableTag); }
bool IsSnapshotOutOfDate(const absl::Status& s) { return HasTag(s, kSnapshotOutOfDateTag); }
bool IsSnapshotTemporarilyUnavailable(const absl::Status& s) {
  return HasTag(s, kSnapshotTemporarilyUnavailableTag);
}

bool IsProposalDropped(const absl::Status& s) { return HasTag(s, kProposalDroppedTag); }
bool IsStepLocalMessage(const absl::Status& s) { return HasTag(s, kStepLocalMessageTag); }
bool IsStepPeerNotFound(const absl::Status& s) { return HasTag(s, kStepPeerNotFoundTag); }

}  // namespace raftkv::raft
