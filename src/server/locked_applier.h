// The server's applied state (node::StoreApplier: the kv::Store and the member list) behind a
// reader-writer lock.
//
// The node thread is the only writer: it applies entries and restores snapshots under the
// writer lock. The gRPC threads read the store and the member list under the reader lock,
// through Read(). The driver's own const calls come from the node thread, the only writer, so
// they need no lock.
//
// A checkpoint of a state on disk (the files a snapshot of it travels as) is taken from a peer
// sender's thread: Checkpoint flushes the engine while the node thread goes on applying, then
// copies it under the reader lock, between two entries. Replacing the engine (Restore of a
// checkpoint) waits for a checkpoint in progress, so the engine never closes under one.
//
// Thread-safety: the node::Applier methods from the node thread only; Read and Checkpoint from
// any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "node/applier.h"

namespace raftkv::server {

class LockedApplier final : public node::Applier {
 public:
  explicit LockedApplier(std::unique_ptr<node::StoreApplier> state) : state_(std::move(state)) {}

  // Runs `fn` with the state held stable. `fn` must not block.
  void Read(absl::FunctionRef<void(const node::StoreApplier&)> fn) const;

  // Writes a checkpoint of the state into `dir` (which must not exist; kv::Store::Checkpoint).
  // FailedPrecondition for a state in memory.
  struct CheckpointTaken {
    // The applied index the checkpoint holds.
    uint64_t applied_index = 0;
    // How long applying waited for it (the reader lock was held).
    absl::Duration held_reader_lock;
  };
  absl::StatusOr<CheckpointTaken> Checkpoint(const std::string& dir) const;

  absl::StatusOr<kvpb::Response> ApplyRequest(uint64_t index,
                                              const kvpb::Request& request) override;
  void ApplyConfChange(uint64_t index, const raftpb::ConfChange& change) override;
  void ApplyMemberAttributes(uint64_t index, const peerpb::Member& attributes) override;
  void MarkApplied(uint64_t index) override;
  absl::Status Restore(uint64_t index, std::string_view data) override;

  absl::StatusOr<std::string> Snapshot() const override { return state_->Snapshot(); }
  // Syncs without the lock: an engine's sync does not change what readers see.
  absl::Status Sync() override { return state_->Sync(); }
  // Under the writer lock, like an entry: the step writes to the engine.
  bool ContinueCompaction() override;
  uint64_t applied_index() const override { return state_->applied_index(); }
  const node::MemberList& members() const override { return state_->members(); }
  const kv::Store& store() const override { return state_->store(); }

 private:
  // Held shared while a checkpoint is taken, exclusively while a snapshot is restored (which
  // may replace the engine); taken before mu_.
  mutable absl::Mutex engine_mu_;
  mutable absl::Mutex mu_;
  // Written under mu_ (writer); read by the node thread without it, by others under it.
  const std::unique_ptr<node::StoreApplier> state_;
};

}  // namespace raftkv::server
