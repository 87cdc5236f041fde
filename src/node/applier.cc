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
    : StoreApplier(std::make_unique<kv::MemoryEngine>(), max_snapshot_bytes) {}

StoreApplier::StoreApplier(std::unique_ptr<kv::Engine> engine, uint64_t max_snapshot_bytes)
    : max_snapshot_bytes_(max_snapshot_bytes), store_(std::move(engine)) {}

absl::StatusOr<std::unique_ptr<StoreApplier>> StoreApplier::Open(
    std::unique_ptr<kv::Engine> engine, uint64_t max_snapshot_bytes) {
  std::unique_ptr<StoreApplier> applier(new StoreApplier(std::move(engine), max_snapshot_bytes));
  const std::string& encoded = applier->store_.cluster_state();
  if (!encoded.empty()) {
    peerpb::StateSnapshot state;
    if (!state.ParseFromString(encoded)) {
      return absl::DataLossError("the member list kept with the kv state does not decode");
    }
    applier->members_.Restore({state.members().begin(), state.members().end()},
                              {state.removed_ids().begin(), state.removed_ids().end()});
  }
  return applier;
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

}  // namespace raftkv::node
