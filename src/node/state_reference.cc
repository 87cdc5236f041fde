#include "node/state_reference.h"

#include <climits>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "raftkv/peerpb/peer.pb.h"

namespace raftkv::node {

using google::protobuf::internal::WireFormatLite;

std::optional<uint64_t> ReferencedCheckpoint(std::string_view snapshot_data) {
  if (snapshot_data.size() > static_cast<size_t>(INT_MAX)) return std::nullopt;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(snapshot_data.data()),
                                            static_cast<int>(snapshot_data.size()));
  std::optional<uint64_t> found;
  while (const uint32_t tag = in.ReadTag()) {
    if (WireFormatLite::GetTagFieldNumber(tag) ==
            peerpb::StateSnapshot::kEngineCheckpointFieldNumber &&
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t length = 0;
      std::string bytes;
      if (!in.ReadVarint32(&length) || !in.ReadString(&bytes, static_cast<int>(length))) {
        return std::nullopt;
      }
      peerpb::EngineCheckpoint checkpoint;
      if (!checkpoint.ParseFromString(bytes)) return std::nullopt;
      // Protobuf merges repeated occurrences of a message field; the last index wins.
      found = checkpoint.applied_index();
      continue;
    }
    if (!WireFormatLite::SkipField(&in, tag)) return std::nullopt;
  }
  if (!in.ConsumedEntireMessage()) return std::nullopt;
  return found;
}

absl::StatusOr<std::string> RetargetReference(std::string_view reference,
                                              uint64_t checkpoint_index) {
  peerpb::StateSnapshot state;
  if (!state.ParseFromArray(reference.data(), static_cast<int>(reference.size())) ||
      !state.has_engine_checkpoint()) {
    return absl::InvalidArgumentError("the snapshot's data is not a reference to a state on disk");
  }
  state.mutable_engine_checkpoint()->set_applied_index(checkpoint_index);
  return state.SerializeAsString();
}

}  // namespace raftkv::node
