// Cutting a MsgSnapshot into chunks for the wire and putting it back together.
//
// A snapshot can be far larger than a gRPC message may be, so its data travels as a stream of
// chunks (thesis §5.3 / §7 — InstallSnapshot is sent in pieces). The first chunk carries the
// raft message; the last carries a CRC-32C of the whole data, so that a truncated or corrupted
// transfer is refused instead of being installed. The data is either the snapshot's own data
// (inline: taken out of the message here and put back by the assembler) or the files of an
// engine checkpoint (checkpoint_chunks.h), which the assembler writes to a CheckpointSink; the
// message then keeps its data, a small reference (peer.proto, SnapshotChunk).
//
// Thread-safety: pure functions; a SnapshotAssembler is used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "raftkv/peerpb/peer.pb.h"
#include "raftkv/raftpb/raft.pb.h"
#include "transport/checkpoint_sink.h"

namespace raftkv::transport {

// Chunks of at most `chunk_size_bytes` data each; always at least one chunk.
// REQUIRES: message is a MsgSnapshot, chunk_size_bytes > 0.
std::vector<peerpb::SnapshotChunk> SplitSnapshot(const raftpb::Message& message,
                                                 uint64_t cluster_id, size_t chunk_size_bytes);

class SnapshotAssembler {
 public:
  // The most memory reserved up front from a header's announced size; beyond it the buffer
  // grows with the data that actually arrives, so a header that lies costs nothing.
  static constexpr uint64_t kMaxUpfrontReserveBytes = uint64_t{64} << 20;
  // The default bound on one snapshot's inline data.
  static constexpr uint64_t kDefaultMaxSizeBytes = uint64_t{8} << 30;

  // `max_size_bytes` bounds inline data; `checkpoints` says where checkpoint files go and
  // bounds them (null, or an empty dir: streams of files are refused).
  explicit SnapshotAssembler(uint64_t max_size_bytes = kDefaultMaxSizeBytes,
                             const CheckpointSinkOptions* checkpoints = nullptr)
      : max_size_bytes_(max_size_bytes), checkpoints_(checkpoints) {}

  // Takes the next chunk in order. A stream of files may start at an offset other than 0: it
  // resumes a transfer that broke, and the sink checks that it holds exactly the bytes before
  // it. InvalidArgument when the stream is malformed (no header first, a gap, more data than
  // announced, a bad manifest, a resume point other than the bytes held), ResourceExhausted
  // when the
  // announced size is above the limit (or, for files, the free space), DataLoss when the
  // checksum does not match, FailedPrecondition for files this member does not accept, and the
  // file system's error when a file cannot be written.
  absl::Status Add(peerpb::SnapshotChunk chunk);
  bool complete() const { return complete_; }
  // Whether the snapshot came as checkpoint files (kept at checkpoint_path() once complete).
  bool has_checkpoint() const { return sink_ != nullptr; }
  const std::string& checkpoint_path() const { return sink_->path(); }
  // The sender and the whole MsgSnapshot. REQUIRES: complete().
  uint64_t from() const { return from_; }
  raftpb::Message TakeMessage();
  // Capacity of the inline data buffer so far.
  uint64_t reserved_bytes() const { return data_.capacity(); }
  // Data bytes held so far, those a resumed stream did not need to carry included.
  uint64_t received_bytes() const { return received_; }
  // Where this stream's data started: bytes kept from a broken transfer of the same checkpoint.
  uint64_t resumed_from() const { return resumed_from_; }

 private:
  absl::Status AddChunk(peerpb::SnapshotChunk chunk);

  const uint64_t max_size_bytes_;
  const CheckpointSinkOptions* const checkpoints_;
  bool started_ = false;
  bool complete_ = false;
  uint64_t from_ = 0;
  uint64_t total_size_bytes_ = 0;
  uint64_t received_ = 0;
  uint64_t resumed_from_ = 0;
  raftpb::Message message_;
  std::string data_;
  std::unique_ptr<CheckpointSink> sink_;
};

}  // namespace raftkv::transport
