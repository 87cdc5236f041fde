// Installing a state on disk that arrived from another member as the files of an engine
// checkpoint (docs/storage.md, "Snapshots of a state on disk").
//
// StoreApplier knows which checkpoint a snapshot refers to, but not where files live: the host
// does (the server's data directory). It gives the applier an installer, which keeps the node
// layer free of file-system calls.
//
// Thread-safety: called by the applier's owner (the server's node thread), one call at a time.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "kv/engine.h"

namespace raftkv::node {

class CheckpointInstaller {
 public:
  virtual ~CheckpointInstaller() = default;

  // Makes the checkpoint received at `checkpoint_index` the engine's state and opens it (an
  // engine at that index; or later, when the state is the member's own, kept by the engine it
  // ran on before it changed engines). Calls
  // `close_engine` (which closes the engine in use) once it has checked that the checkpoint is
  // there and before it moves any file, so that an error before that call leaves the old state
  // in use. NotFound when the checkpoint is not there. Any error after `close_engine` leaves the
  // member without a usable state: it must stop, and the install is finished at its restart.
  virtual absl::StatusOr<std::unique_ptr<kv::Engine>> Install(
      uint64_t checkpoint_index, absl::FunctionRef<void()> close_engine) = 0;
};

}  // namespace raftkv::node
