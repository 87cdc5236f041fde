// The leader's side of sending a state on disk (transport::CheckpointSource): for a snapshot
// whose data is a reference (node/state_reference.h), a checkpoint of the engine, made now into
// member/snap-send-<n>/ and deleted once released (the transfer was delivered, or the checkpoint
// kept for resuming it is no longer wanted). Its applied index is at or after the snapshot's
// (the state moved on since the snapshot was taken); the reference sent with it names that
// index, and so does the reference of a later snapshot that a kept checkpoint serves. A
// snapshot that carries its state is sent as it is.
//
// Thread-safety: thread-safe (the peer senders' snapshot threads).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "server/engine_files.h"
#include "server/locked_applier.h"
#include "spdlog/spdlog.h"
#include "transport/checkpoint.h"

namespace raftkv::server {

class EngineCheckpointSource final : public transport::CheckpointSource {
 public:
  // `state` and `files` must outlive the source.
  EngineCheckpointSource(const LockedApplier* state, EngineFiles* files,
                         std::shared_ptr<spdlog::logger> logger)
      : state_(state), files_(files), logger_(std::move(logger)) {}

  absl::StatusOr<std::optional<transport::CheckpointFiles>> Make(
      const raftpb::Snapshot& snapshot) override;
  absl::StatusOr<std::optional<std::string>> Retarget(const raftpb::Snapshot& snapshot,
                                                      uint64_t index) override;
  void Release(const transport::CheckpointFiles& checkpoint) override;

 private:
  const LockedApplier* const state_;
  EngineFiles* const files_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace raftkv::server
