#include "raftkv/raft/config.h"

#include "absl/strings/substitute.h"

namespace raftkv::raft {

absl::Status Config::Validate() const {
  if (id == 0) return absl::InvalidArgumentError("Config.id must not be 0 (0 means \"no node\")");
  if (heartbeat_ticks <= 0) {
    return absl::InvalidArgumentError(
        absl::Substitute("Config.heartbeat_ticks must be positive, got $0", heartbeat_ticks));
  }
  if (election_ticks <= heartbeat_ticks) {
    return absl::InvalidArgumentError(
        absl::Substitute("Config.election_ticks ($0) must be greater than heartbeat_ticks ($1)",
                         election_ticks, heartbeat_ticks));
  }
  if (storage == nullptr) return absl::InvalidArgumentError("Config.storage must be set");
  if (max_inflight_msgs <= 0) {
    return absl::InvalidArgumentError(
        absl::Substitute("Config.max_inflight_msgs must be positive, got $0", max_inflight_msgs));
  }
  if (max_size_per_msg_bytes == 0) {
    return absl::InvalidArgumentError("Config.max_size_per_msg_bytes must be positive");
  }
  if (max_committed_size_per_ready_bytes == 0) {
    return absl::InvalidArgumentError("Config.max_committed_size_per_ready_bytes must be positive");
  }
  if (read_only_option == ReadOnlyOption::kLeaseBased && !check_quorum) {
    return absl::InvalidArgumentError(
        "Config.read_only_option kLeaseBased requires check_quorum: without it a deposed "
        "leader could serve stale reads from an expired lease");
  }
  return absl::OkStatus();
}

}  // namespace raftkv::raft
