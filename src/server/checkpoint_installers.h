// How this server installs a state that arrived as the files of an engine checkpoint
// (node::CheckpointInstaller), one per --engine:
//
// - rocksdb: the received directory becomes the engine's directory (EngineFiles::SwapIn) and
//   is opened there; nothing is copied.
// - memory: the received checkpoint is opened as a RocksDB engine and its state copied into a
//   fresh engine in memory (a member in memory needs the state in memory anyway). The
//   checkpoint stays on disk while the raft log's snapshot refers to it: a restart rebuilds
//   the state from it again. A member that ran with --engine rocksdb before has no received
//   checkpoint for its own snapshots: their state is its old engine in kv/, copied the same way.
//
// Thread-safety: the node thread (through the applier's Restore), one call at a time.
#pragma once

#include <cstdint>
#include <memory>

#include "node/checkpoint_installer.h"
#include "server/engine_files.h"

namespace raftkv::server {

class RocksDbCheckpointInstaller final : public node::CheckpointInstaller {
 public:
  explicit RocksDbCheckpointInstaller(EngineFiles* files) : files_(files) {}
  absl::StatusOr<std::unique_ptr<kv::Engine>> Install(
      uint64_t checkpoint_index, absl::FunctionRef<void()> close_engine) override;

 private:
  EngineFiles* const files_;
};

class MemoryCheckpointInstaller final : public node::CheckpointInstaller {
 public:
  explicit MemoryCheckpointInstaller(EngineFiles* files) : files_(files) {}
  absl::StatusOr<std::unique_ptr<kv::Engine>> Install(
      uint64_t checkpoint_index, absl::FunctionRef<void()> close_engine) override;

 private:
  EngineFiles* const files_;
};

}  // namespace raftkv::server
