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
                                     size_t chunk_size_bytes, io::Env* env)
    : checkpoint_(checkpoint),
      cluster_id_(cluster_id),
      from_(message.from()),
      to_(message.to()),
      chunk_size_(chunk_size_bytes),
      env_(env != nullptr ? env : io::Env::Default()) {
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
  for (const CheckpointFile& file : checkpoint.files) {
    peerpb::CheckpointFile* listed = manifest->add_files();
    listed->set_name(file.name);
    listed->set_size_bytes(file.size_bytes);
    total_ += file.size_bytes;
  }
  header.set_total_size_bytes(total_);
  header_ = std::move(header);
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
  chunk.set_offset(sent_);
  std::string* data = chunk.mutable_data();
  const size_t want = static_cast<size_t>(std::min<uint64_t>(chunk_size_, total_ - sent_));
  data->resize(want);
  size_t filled = 0;
  while (filled < want) {
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
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(want - filled, listed.size_bytes - file_offset_));
    absl::StatusOr<size_t> read = file_->ReadAt(file_offset_, n, data->data() + filled);
    if (!read.ok()) return read.status();
    if (*read == 0) {
      return absl::DataLossError(absl::StrCat("checkpoint file ", listed.name, " in ",
                                              checkpoint_.dir, " ends at ", file_offset_,
                                              " bytes; ", listed.size_bytes, " were listed"));
    }
    crc_ = base::crc32c::Extend(crc_, data->data() + filled, *read);
    filled += *read;
    file_offset_ += *read;
  }
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
