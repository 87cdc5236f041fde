// The sending end of a checkpoint transfer: a MsgSnapshot whose data is a reference, and the
// files of the checkpoint made for it, as snapshot chunks (peer.proto, SnapshotChunk), read from
// the files one chunk at a time so that sending holds one chunk in memory whatever the size.
// A transfer that resumes a broken one starts at the offset the receiver holds: the bytes before
// it are read (for the CRC-32C of the whole stream) but not sent.
//
// Thread-safety: one chunker is used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "io/env.h"
#include "raftkv/peerpb/peer.pb.h"
#include "raftkv/raftpb/raft.pb.h"
#include "transport/checkpoint.h"

namespace raftkv::transport {

class CheckpointChunker {
 public:
  // Chunks from `start_offset` on (0: the whole stream; at most the total).
  // REQUIRES: message is a MsgSnapshot, chunk_size_bytes > 0; `checkpoint` outlives the
  // chunker. Null env: io::Env::Default().
  CheckpointChunker(const raftpb::Message& message, const CheckpointFiles& checkpoint,
                    uint64_t cluster_id, size_t chunk_size_bytes, io::Env* env = nullptr,
                    uint64_t start_offset = 0);

  // The next chunk (the first carries the message, its data replaced by the checkpoint's
  // reference, and the manifest; the last the CRC-32C); nullopt after the last. DataLoss when a
  // file is shorter than listed, the file system's error when one cannot be read.
  absl::StatusOr<std::optional<peerpb::SnapshotChunk>> Next();

  uint64_t total_bytes() const { return total_; }
  // The data bytes the chunks carry: the total less the start offset.
  uint64_t bytes_to_send() const { return total_ - start_; }

 private:
  // Reads the next `n` bytes of the stream into `out` (when not null), extending the CRC-32C.
  absl::Status Read(size_t n, char* out);

  const CheckpointFiles& checkpoint_;
  const uint64_t cluster_id_;
  const uint64_t from_;
  const uint64_t to_;
  const size_t chunk_size_;
  io::Env* const env_;
  std::optional<peerpb::SnapshotChunk> header_;
  uint64_t total_ = 0;
  const uint64_t start_;
  uint64_t sent_ = 0;
  uint32_t crc_ = 0;
  bool done_ = false;
  // The file being read, which one, and how far.
  std::unique_ptr<io::File> file_;
  size_t file_index_ = 0;
  uint64_t file_offset_ = 0;
};

}  // namespace raftkv::transport
