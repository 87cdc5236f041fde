#include "node/applier.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "kv/memory_engine.h"

namespace raftkv::node {
namespace {

// The members and removed ids as a StateSnapshot without its kv part.
peerpb::StateSnapshot MembersOnly(const MemberList& members) {
  peerpb::StateSnapshot state;
  for (peerpb::Member& m : members.List()) *state.add_members() = std::move(m);
  for (uint64_t id : members.RemovedIds()) state.add_removed_ids(id);
  return state;
}

}  // namespace

StoreApplier::StoreApplier(uint64_t max_snapshot_bytes)
    : StoreApplier(std::make_unique<kv::MemoryEngine>(), nullptr, max_snapshot_bytes) {}

StoreApplier::StoreApplier(std::unique_ptr<kv::Engine> engine, CheckpointInstaller* checkpoints,
                           uint64_t max_snapshot_bytes)
    : max_snapshot_bytes_(max_snapshot_bytes),
      checkpoints_(checkpoints),
      store_(std::move(engine)) {}

absl::StatusOr<std::unique_ptr<StoreApplier>> StoreApplier::Open(std::unique_ptr<kv::Engine> engine,
                                                                 CheckpointInstaller* checkpoints,
                                                                 uint64_t max_snapshot_bytes) {
  std::unique_ptr<StoreApplier> applier(
      new StoreApplier(std::move(engine), checkpoints, max_snapshot_bytes));
  if (absl::Status s = applier->LoadMembers(); !s.ok()) return s;
  return applier;
}

absl::Status StoreApplier::LoadMembers() {
  const std::string& encoded = store_.cluster_state();
  peerpb::StateSnapshot state;
  if (!state.ParseFromString(encoded)) {
    return absl::DataLossError("the member list kept with the kv state does not decode");
  }
  members_.Restore({state.members().begin(), state.members().end()},
                   {state.removed_ids().begin(), state.removed_ids().end()});
  return absl::OkStatus();
}

std::string StoreApplier::EncodedMembers() const {
  return MembersOnly(members_).SerializeAsString();
}

absl::StatusOr<kvpb::Response> StoreApplier::ApplyRequest(uint64_t index,
                                                          const kvpb::Request& request) {
  return store_.Apply(request, index);
}

void StoreApplier::ApplyConfChange(uint64_t index, const raftpb::ConfChange& change) {
  peerpb::Member member;
  if (member.ParseFromString(change.context())) {
    if (change.change_type() == raftpb::CONF_CHANGE_REMOVE_NODE) {
      members_.Remove(change.node_id());
    } else {
      member.set_id(change.node_id());
      members_.Add(member);
    }
  }
  store_.MarkApplied(index, EncodedMembers());
}

void StoreApplier::ApplyMemberAttributes(uint64_t index, const peerpb::Member& attributes) {
  members_.UpdateAttributes(attributes);
  store_.MarkApplied(index, EncodedMembers());
}

void StoreApplier::MarkApplied(uint64_t index) { store_.MarkApplied(index); }

absl::StatusOr<std::string> StoreApplier::Snapshot() const {
  peerpb::StateSnapshot state = MembersOnly(members_);
  if (snapshots_by_reference()) {
    state.mutable_engine_checkpoint()->set_applied_index(store_.applied_index());
    return state.SerializeAsString();
  }
  state.set_kv(store_.Snapshot());
  // Protobuf encodes an over-large message as nothing; a snapshot must never claim a state it
  // does not hold, so refuse before encoding.
  const uint64_t size = state.ByteSizeLong();
  if (size > max_snapshot_bytes_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the state is ", size, " bytes, more than a snapshot can hold (",
                     max_snapshot_bytes_, " bytes)"));
  }
  std::string encoded;
  if (!state.SerializeToString(&encoded)) {
    return absl::ResourceExhaustedError("the state cannot be encoded as one snapshot");
  }
  return encoded;
}

absl::Status StoreApplier::Restore(uint64_t index, std::string_view data) {
  peerpb::StateSnapshot state;
  if (!state.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    return absl::DataLossError("the snapshot's application state does not decode");
  }
  if (state.has_engine_checkpoint()) {
    return InstallCheckpoint(index, state.engine_checkpoint().applied_index());
  }
  return RestoreInline(index, std::move(state));
}

absl::Status StoreApplier::RestoreInline(uint64_t index, peerpb::StateSnapshot state) {
  const std::string kv = std::move(*state.mutable_kv());
  state.clear_kv();
  if (absl::Status s = store_.Restore(kv, state.SerializeAsString()); !s.ok()) return s;
  if (store_.applied_index() != index) {
    return absl::DataLossError("the snapshot's store was taken at another index than the snapshot");
  }
  members_.Restore({state.members().begin(), state.members().end()},
                   {state.removed_ids().begin(), state.removed_ids().end()});
  return absl::OkStatus();
}

absl::Status StoreApplier::InstallCheckpoint(uint64_t index, uint64_t checkpoint_index) {
  if (checkpoints_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the snapshot at index ", index,
        " refers to a checkpoint of a state on disk, and this member cannot install one"));
  }
  if (checkpoint_index < index) {
    return absl::DataLossError(absl::StrCat("the snapshot at index ", index,
                                            " refers to a checkpoint taken before it, at index ",
                                            checkpoint_index));
  }
  // The engine in use is closed (its files are about to be replaced); an empty engine stands
  // in until the checkpoint is open, which only matters if the install fails and the member
  // stops.
  absl::StatusOr<std::unique_ptr<kv::Engine>> engine = checkpoints_->Install(
      checkpoint_index, [this] { store_.ReplaceEngine(std::make_unique<kv::MemoryEngine>()); });
  if (!engine.ok()) return engine.status();
  store_.ReplaceEngine(*std::move(engine));
  // A received checkpoint holds exactly its index; a member's own engine, which an installer
  // may copy when the member changed engines, may be further on (Driver::Init checks that
  // against the log).
  if (store_.applied_index() < checkpoint_index) {
    return absl::DataLossError(absl::StrCat("the checkpoint installed for index ", checkpoint_index,
                                            " holds a state at index ", store_.applied_index()));
  }
  return LoadMembers();
}

}  // namespace raftkv::node
