// The snapshot data of a state kept on disk: a reference, not the state.
//
// A raft snapshot's data is a peerpb::StateSnapshot. For a state in memory it holds the state
// itself (`kv`); for a state a key-value engine keeps on disk it holds the member list and an
// EngineCheckpoint naming a checkpoint's applied index, and the state travels to a lagging
// member as the files of that checkpoint, beside the raft message (docs/storage.md, "Snapshots
// of a state on disk"). These helpers read and rewrite that reference.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace raftkv::node {

// The applied index of the engine checkpoint that `snapshot_data` refers to; nullopt when the
// data carries the state itself (or is not a StateSnapshot). Reads the top-level fields without
// copying the state, so asking about a large inline snapshot costs one pass over its framing.
std::optional<uint64_t> ReferencedCheckpoint(std::string_view snapshot_data);

// `reference` (snapshot data for which ReferencedCheckpoint has a value) naming the checkpoint
// at `checkpoint_index` instead: what a sender delivers with the checkpoint it made.
// InvalidArgument when `reference` is not a reference.
absl::StatusOr<std::string> RetargetReference(std::string_view reference,
                                              uint64_t checkpoint_index);

}  // namespace raftkv::node
