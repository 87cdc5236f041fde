#include "transport/snapshot_chunks.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/crc32c.h"

namespace raftkv::transport {
std::vector<peerpb::SnapshotChunk> SplitSnapshot(const raftpb::Message& message,
                                                 uint64_t cluster_id, size_t chunk_size_bytes) {
  assert(message.msg_type() == raftpb::MSG_SNAPSHOT);
  assert(chunk_size_bytes > 0);
  const std::string& data = message.snapshot().data();
  std::vector<peerpb::SnapshotChunk> chunks;
  size_t offset = 0;
  do {
    peerpb::SnapshotChunk chunk;
    chunk.set_cluster_id(cluster_id);
    chunk.set_from(message.from());
    chunk.set_to(message.to());
    chunk.set_total_size_bytes(data.size());
    chunk.set_offset(offset);
    if (offset == 0) {
      *chunk.mutable_message() = message;
      chunk.mutable_message()->mutable_snapshot()->clear_data();
    }
    size_t n = std::min(chunk_size_bytes, data.size() - offset);
    chunk.set_data(data.substr(offset, n));
    offset += n;
    if (offset == data.size()) {
      chunk.set_last(true);
      chunk.set_crc32c(base::crc32c::Value(data));
    }
    chunks.push_back(std::move(chunk));
  } while (offset < data.size());
  return chunks;
}

absl::Status SnapshotAssembler::Add(peerpb::SnapshotChunk chunk) {
  absl::Status s = AddChunk(std::move(chunk));
  // A refused stream leaves nothing to resume; one that merely stops (the assembler is
  // destroyed without an error) keeps what it wrote, if it can resume.
  if (!s.ok() && sink_ != nullptr) sink_->Discard();
  return s;
}

absl::Status SnapshotAssembler::AddChunk(peerpb::SnapshotChunk chunk) {
  if (complete_) return absl::InvalidArgumentError("snapshot chunk after the last one");
  if (!started_) {
    if (!chunk.has_message() || (chunk.offset() != 0 && !chunk.has_checkpoint())) {
      return absl::InvalidArgumentError("snapshot stream does not start with its header chunk");
    }
    started_ = true;
    from_ = chunk.from();
    total_size_bytes_ = chunk.total_size_bytes();
    message_ = std::move(*chunk.mutable_message());
    if (chunk.has_checkpoint()) {
      // The state comes as files, straight to disk; the message's data is the reference. A
      // stream that resumes starts where the bytes kept from a broken one end (the sink checks
      // that it holds them).
      if (checkpoints_ == nullptr) {
        return absl::FailedPreconditionError("this member does not accept snapshots as files");
      }
      sink_ = std::make_unique<CheckpointSink>(*checkpoints_);
      if (absl::Status s = sink_->Begin(chunk.checkpoint(), total_size_bytes_, chunk.offset());
          !s.ok()) {
        return s;
      }
      received_ = chunk.offset();
      resumed_from_ = chunk.offset();
    } else {
      if (total_size_bytes_ > max_size_bytes_) {
        return absl::ResourceExhaustedError(absl::StrCat("snapshot of ", total_size_bytes_,
                                                         " bytes exceeds this member's limit of ",
                                                         max_size_bytes_, " bytes"));
      }
      data_.reserve(std::min(total_size_bytes_, kMaxUpfrontReserveBytes));
    }
  }
  if (chunk.offset() != received_) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot chunk at offset ", chunk.offset(), ", expected ", received_));
  }
  if (chunk.data().size() > total_size_bytes_ - received_) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot data exceeds its announced size of ", total_size_bytes_));
  }
  if (sink_ != nullptr) {
    if (absl::Status s = sink_->Write(chunk.data()); !s.ok()) return s;
  } else {
    data_.append(chunk.data());
  }
  received_ += chunk.data().size();
  if (!chunk.last()) return absl::OkStatus();
  if (received_ != total_size_bytes_) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot ended after ", received_, " of ", total_size_bytes_, " bytes"));
  }
  if (sink_ != nullptr) {
    if (absl::Status s = sink_->Finish(chunk.crc32c()); !s.ok()) return s;
  } else if (base::crc32c::Value(data_) != chunk.crc32c()) {
    return absl::DataLossError("snapshot checksum mismatch: the transfer was corrupted");
  }
  complete_ = true;
  return absl::OkStatus();
}

raftpb::Message SnapshotAssembler::TakeMessage() {
  assert(complete_);
  if (sink_ == nullptr) *message_.mutable_snapshot()->mutable_data() = std::move(data_);
  return std::move(message_);
}

}  // namespace raftkv::transport
