// etcd's --force-new-cluster: the recovery path when a cluster has lost its quorum for good.
//
// The member keeps its data (every committed write) and rewrites its raft log so that it is the
// only voter: its uncommitted tail is dropped, and one committed REMOVE_NODE entry per other
// member (voter or learner) is appended in the current term, as etcd's restartAsStandaloneNode
// does. When the node driver replays the log it applies those removals to the core and to the
// member list, and the member then elects itself; new members are added afterwards with
// `member add`. The removed members must not be restarted with their old data (their traffic is
// refused as removed members').
//
// Thread-safety: call before the node driver opens the log.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/durable_storage.h"

namespace raftkv::node {

struct ForcedCluster {
  std::vector<uint64_t> removed;  // the members removed, in id order
  uint64_t dropped_uncommitted = 0;  // entries after the commit index that were discarded
};

// FailedPrecondition if `self` is not a member of the configuration the log holds (it cannot
// carry on alone). Storage errors as they come.
absl::StatusOr<ForcedCluster> ForceNewCluster(storage::DurableStorage& storage, uint64_t self);

}  // namespace raftkv::node
