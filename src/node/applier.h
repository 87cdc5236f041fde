// What the node driver applies committed entries to: the replicated state of one member.
//
// The driver decodes each committed entry and hands it here in log order: a client's request
// for the key-value store, a membership change, a member's attributes, or nothing (a new
// leader's empty entry). Every call carries the entry's index, which becomes the applied index,
// so that the state and its applied index always move together (a restart, or a snapshot,
// resumes from exactly the entry after it).
//
// Applier is the seam: StoreApplier is the one implementation (kv::Store + MemberList); the
// server wraps it with a lock for its readers, the simulator with its safety checks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kv/engine.h"
#include "kv/store.h"
#include "node/checkpoint_installer.h"
#include "node/member_list.h"
#include "raftkv/kvpb/kv.pb.h"
#include "raftkv/peerpb/peer.pb.h"
#include "raftkv/raftpb/raft.pb.h"

namespace raftkv::node {

class Applier {
 public:
  virtual ~Applier() = default;

  // Each REQUIRES index > applied_index().
  // A client's request: the store's answer (an etcd error changes nothing but the index).
  virtual absl::StatusOr<kvpb::Response> ApplyRequest(uint64_t index,
                                                      const kvpb::Request& request) = 0;
  // A committed membership change, which carries the member in its context.
  virtual void ApplyConfChange(uint64_t index, const raftpb::ConfChange& change) = 0;
  // A member announcing its name and client URLs.
  virtual void ApplyMemberAttributes(uint64_t index, const peerpb::Member& attributes) = 0;
  // An entry that changes no state (empty, or not the application's).
  virtual void MarkApplied(uint64_t index) = 0;

  // The data of a raft snapshot at applied_index(): the whole state, or, for a state on disk, a
  // reference to it (node/state_reference.h). ResourceExhausted when the state cannot be
  // encoded whole (see StoreApplier); the driver then keeps its log instead.
  virtual absl::StatusOr<std::string> Snapshot() const = 0;
  // Replaces the whole state with a Snapshot() taken at `index`: afterwards applied_index() is
  // `index`, or, when `data` refers to an engine checkpoint, at least that checkpoint's index
  // (which is at or above `index`). An error means the snapshot is not what it claims to be or
  // cannot be installed; the member must stop, since the state may be partly replaced.
  virtual absl::Status Restore(uint64_t index, std::string_view data) = 0;

  // Makes the applied state durable against a machine crash (kv::Store::Sync). The raft log
  // must keep every entry after the last index applied before an OK Sync: a reopened state
  // on disk may have lost what was applied after it.
  virtual absl::Status Sync() = 0;

  // Between entries: one bounded step of freeing the storage an applied compaction dropped
  // (kv::Store::ContinueCompaction), so that an idle member frees it too. Changes nothing the
  // state answers. Returns whether work is left.
  virtual bool ContinueCompaction() = 0;

  virtual uint64_t applied_index() const = 0;
  virtual const MemberList& members() const = 0;
  virtual const kv::Store& store() const = 0;
};

// kv::Store and the member list, snapshotted together as one peerpb::StateSnapshot. The member
// list is also kept in the store's engine (kv::Store::cluster_state), written with the applied
// index of every entry that changes it, so that an engine on disk reopens with both.
//
// Snapshots of a state on disk. Given a CheckpointInstaller, a StoreApplier whose engine can
// checkpoint (kv::Engine::can_checkpoint) snapshots as a reference: the member list and an
// EngineCheckpoint at applied_index(), no store bytes, so a snapshot costs nothing however
// large the state (the member itself never needs more: its engine reopens where it was). The
// sender of a snapshot makes a checkpoint and streams its files; Restore of a reference has the
// installer put the received checkpoint in place of the engine's files and reopens it, reading
// the member list from it. Restore of inline data works on any engine, and an applier with an
// installer but an engine in memory installs a reference by copying the checkpoint's state
// (the installer hands it an engine in memory).
//
// Thread-compatible.
class StoreApplier final : public Applier {
 public:
  // The largest state a snapshot can hold: one protobuf message, which may not reach 2 GiB.
  static constexpr uint64_t kMaxSnapshotBytes = (uint64_t{2} << 30) - 1;

  // A state on a fresh in-memory engine.
  explicit StoreApplier(uint64_t max_snapshot_bytes = kMaxSnapshotBytes);
  // The state `engine` holds (a reopened engine's last applied entry, member list included).
  // Fails when the engine's member list does not decode. `checkpoints` (may be null: snapshots
  // then always carry the state) must outlive the applier.
  static absl::StatusOr<std::unique_ptr<StoreApplier>> Open(
      std::unique_ptr<kv::Engine> engine, CheckpointInstaller* checkpoints = nullptr,
      uint64_t max_snapshot_bytes = kMaxSnapshotBytes);

  absl::StatusOr<kvpb::Response> ApplyRequest(uint64_t index,
                                              const kvpb::Request& request) override;
  void ApplyConfChange(uint64_t index, const raftpb::ConfChange& change) override;
  void ApplyMemberAttributes(uint64_t index, const peerpb::Member& attributes) override;
  void MarkApplied(uint64_t index) override;
  absl::StatusOr<std::string> Snapshot() const override;
  absl::Status Restore(uint64_t index, std::string_view data) override;
  absl::Status Sync() override { return store_.Sync(); }
  bool ContinueCompaction() override { return store_.ContinueCompaction(); }
  uint64_t applied_index() const override { return store_.applied_index(); }
  const MemberList& members() const override { return members_; }
  const kv::Store& store() const override { return store_; }

  // Whether Snapshot() refers to the engine's files instead of carrying the state.
  bool snapshots_by_reference() const { return checkpoints_ != nullptr && store_.can_checkpoint(); }

 private:
  StoreApplier(std::unique_ptr<kv::Engine> engine, CheckpointInstaller* checkpoints,
               uint64_t max_snapshot_bytes);
  // The member list as kept in the engine.
  std::string EncodedMembers() const;
  // Reads the member list kept in the engine.
  absl::Status LoadMembers();
  absl::Status RestoreInline(uint64_t index, peerpb::StateSnapshot state);
  absl::Status InstallCheckpoint(uint64_t index, uint64_t checkpoint_index);

  const uint64_t max_snapshot_bytes_;
  CheckpointInstaller* const checkpoints_;
  kv::Store store_;
  MemberList members_;
};

}  // namespace raftkv::node
