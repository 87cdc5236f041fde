#include "node/applier.h"

#include "absl/strings/str_cat.h"

namespace raftkv::node {

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
  store_.MarkApplied(index);
}

void StoreApplier::ApplyMemberAttributes(uint64_t index, const peerpb::Member& attributes) {
  members_.UpdateAttributes(attributes);
  store_.MarkApplied(index);
}

void StoreApplier::MarkApplied(uint64_t index) { store_.MarkApplied(index); }

absl::StatusOr<std::string> StoreApplier::Snapshot() const {
  peerpb::StateSnapshot state;
  state.set_kv(store_.Snapshot());
  for (peerpb::Member& m : members_.List()) *state.add_members() = std::move(m);
  for (uint64_t id : members_.RemovedIds()) state.add_removed_ids(id);
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
  if (absl::Status s = store_.Restore(state.kv()); !s.ok()) return s;
  if (store_.applied_index() != index) {
    return absl::DataLossError("the snapshot's store was taken at another index than the snapshot");
  }
  members_.Restore({state.members().begin(), state.members().end()},
                   {state.removed_ids().begin(), state.removed_ids().end()});
  return absl::OkStatus();
}

}  // namespace raftkv::node
