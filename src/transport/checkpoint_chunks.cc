#include "transport/checkpoint_chunks.h"

#include <algorithm>
#include <cassert>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/crc32c.h"

namespace raftkv::transport {

CheckpointChunker::CheckpointChunker(const raftpb::Message& message,
                                     const CheckpointFiles& checkpoint, uint64_t cluster_id,
                                     size_t chunk_size_bytes, io::Env* env, uint64_t start_offset)
    : checkpoint_(checkpoint),
      cluster_id_(cluster_id),
      from_(message.from()),
      to_(message.to()),
      chunk_size_(chunk_size_bytes),
      env_(env != nullptr ? env : io::Env::Default()),
      start_(start_offset) {
  assert(message.msg_type() == raftpb::MSG_SNAPSHOT);
  assert(chunk_size_bytes > 0);
  peerpb::SnapshotChunk header;
  header.set_cluster_id(cluster_id);
  header.set_from(message.from());
  header.set_to(message.to());
  *header.mutable_message() = message;
  header.mutable_message()->mutable_snapshot()->set_data(checkpoint.snapshot_data);
  peerpb::CheckpointManifest* manifest = header.mutable_checkpoint();
  manifest->set_index(checkpoint.index);
  manifest->set_transfer_id(checkpoint.transfer_id);
  for (const CheckpointFile& file : checkpoint.files) {
    peerpb::CheckpointFile* listed = manifest->add_files();
    listed->set_name(file.name);
    listed->set_size_bytes(file.size_bytes);
    total_ += file.size_bytes;
  }
  header.set_total_size_bytes(total_);
  header_ = std::move(header);
  assert(start_offset <= total_);
}

absl::Status CheckpointChunker::Read(size_t n, char* out) {
  std::string skipped;
  size_t filled = 0;
  while (filled < n) {
    const CheckpointFile& listed = checkpoint_.files[file_index_];
    if (file_offset_ == listed.size_bytes) {
      file_.reset();
      ++file_index_;
      file_offset_ = 0;
      continue;
    }
    if (file_ == nullptr) {
      absl::StatusOr<std::unique_ptr<io::File>> file =
          env_->OpenFile(io::JoinPath(checkpoint_.dir, listed.name), io::OpenMode::kReadOnly);
      if (!file.ok()) return file.status();
      file_ = *std::move(file);
    }
    const size_t want =
        static_cast<size_t>(std::min<uint64_t>(n - filled, listed.size_bytes - file_offset_));
    char* into = out + filled;
    if (out == nullptr) {
      // Bytes the receiver holds: read for the checksum only, a bounded piece at a time.
      skipped.resize(std::min(want, chunk_size_));
      into = skipped.data();
    }
    const size_t piece = out == nullptr ? skipped.size() : want;
    absl::StatusOr<size_t> read = file_->ReadAt(file_offset_, piece, into);
    if (!read.ok()) return read.status();
    if (*read == 0) {
      return absl::DataLossError(absl::StrCat("checkpoint file ", listed.name, " in ",
                                              checkpoint_.dir, " ends at ", file_offset_,
                                              " bytes; ", listed.size_bytes, " were listed"));
    }
    crc_ = base::crc32c::Extend(crc_, into, *read);
    filled += *read;
    file_offset_ += *read;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<peerpb::SnapshotChunk>> CheckpointChunker::Next() {
  if (done_) return std::nullopt;
  peerpb::SnapshotChunk chunk;
  if (header_.has_value()) {
    chunk = *std::move(header_);
    header_.reset();
  } else {
    // Every chunk names the cluster and both members: the receiver checks each one.
    chunk.set_cluster_id(cluster_id_);
    chunk.set_from(from_);
    chunk.set_to(to_);
    chunk.set_total_size_bytes(total_);
  }
  if (sent_ < start_) {
    if (absl::Status s = Read(static_cast<size_t>(start_), nullptr); !s.ok()) return s;
    sent_ = start_;
  }
  chunk.set_offset(sent_);
  std::string* data = chunk.mutable_data();
  const size_t want = static_cast<size_t>(std::min<uint64_t>(chunk_size_, total_ - sent_));
  data->resize(want);
  if (absl::Status s = Read(want, data->data()); !s.ok()) return s;
  sent_ += want;
  if (sent_ == total_) {
    chunk.set_last(true);
    chunk.set_crc32c(crc_);
    done_ = true;
    file_.reset();
  }
  return chunk;
}

}  // namespace raftkv::transport
