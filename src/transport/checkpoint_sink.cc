#include "transport/checkpoint_sink.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <set>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/crc32c.h"
#include "transport/checkpoint.h"

namespace raftkv::transport {
namespace {

constexpr size_t kMaxNameBytes = 255;

bool IsPlainFileName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

// Tells the directories of concurrent transfers in this process apart.
std::atomic<uint64_t> partial_counter{0};

}  // namespace

absl::StatusOr<uint64_t> FreeBytesOf(const std::string& dir) {
  struct statvfs fs;
  if (::statvfs(dir.c_str(), &fs) != 0) return io::ErrnoError(errno, "statvfs", dir);
  return static_cast<uint64_t>(fs.f_bavail) * static_cast<uint64_t>(fs.f_frsize);
}

CheckpointSink::CheckpointSink(CheckpointSinkOptions options)
    : options_(std::move(options)),
      env_(options_.env != nullptr ? options_.env : io::Env::Default()) {}

CheckpointSink::~CheckpointSink() {
  file_.reset();
  if (created_ && !finished_) {
    // A transfer that failed leaves nothing behind (Env has no directory removal).
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
}

absl::Status CheckpointSink::Begin(const peerpb::CheckpointManifest& manifest,
                                   uint64_t total_size_bytes) {
  if (options_.dir.empty()) {
    return absl::FailedPreconditionError("this member does not accept snapshots as files");
  }
  if (static_cast<size_t>(manifest.files_size()) > options_.max_files) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint of ", manifest.files_size(),
                                                   " files; at most ", options_.max_files,
                                                   " are accepted"));
  }
  std::set<std::string_view> names;
  uint64_t sum = 0;
  for (const peerpb::CheckpointFile& file : manifest.files()) {
    if (!IsPlainFileName(file.name())) {
      return absl::InvalidArgumentError(absl::StrCat("checkpoint file name \"",
                                                     absl::CEscape(file.name().substr(0, 64)),
                                                     "\" is not a plain file name"));
    }
    if (!names.insert(file.name()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint file ", file.name(), " is listed twice"));
    }
    if (file.size_bytes() > options_.max_size_bytes - std::min(sum, options_.max_size_bytes)) {
      return absl::ResourceExhaustedError(absl::StrCat("checkpoint exceeds this member's limit of ",
                                                       options_.max_size_bytes, " bytes"));
    }
    sum += file.size_bytes();
  }
  if (sum != total_size_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint announces ", total_size_bytes, " bytes but its files hold ", sum));
  }
  absl::StatusOr<uint64_t> free =
      options_.free_bytes ? options_.free_bytes(options_.dir) : FreeBytesOf(options_.dir);
  if (!free.ok()) return free.status();
  if (sum > *free) {
    return absl::ResourceExhaustedError(absl::StrCat("checkpoint of ", sum,
                                                     " bytes does not fit in the ", *free,
                                                     " bytes free in ", options_.dir));
  }
  index_ = manifest.index();
  files_.assign(manifest.files().begin(), manifest.files().end());
  total_ = sum;
  path_ = PartialCheckpointPath(options_.dir, index_, partial_counter.fetch_add(1));
  // Left over by a process that died mid-transfer with the same counter value.
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
  if (absl::Status s = env_->CreateDir(path_); !s.ok()) return s;
  created_ = true;
  return absl::OkStatus();
}

absl::Status CheckpointSink::CloseFile() {
  if (file_ == nullptr) return absl::OkStatus();
  std::unique_ptr<io::File> file = std::move(file_);
  if (absl::Status s = file->Sync(); !s.ok()) return s;
  return file->Close();
}

absl::Status CheckpointSink::NextFile() {
  if (absl::Status s = CloseFile(); !s.ok()) return s;
  while (next_file_ < files_.size()) {
    const peerpb::CheckpointFile& next = files_[next_file_++];
    absl::StatusOr<std::unique_ptr<io::File>> file =
        env_->OpenFile(io::JoinPath(path_, next.name()), io::OpenMode::kCreateExclusive);
    if (!file.ok()) return file.status();
    file_ = *std::move(file);
    file_remaining_ = next.size_bytes();
    if (file_remaining_ > 0) return absl::OkStatus();
    if (absl::Status s = CloseFile(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status CheckpointSink::Write(std::string_view data) {
  if (data.size() > total_ - written_) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint data exceeds its announced size of ", total_));
  }
  while (!data.empty()) {
    if (file_ == nullptr || file_remaining_ == 0) {
      if (absl::Status s = NextFile(); !s.ok()) return s;
      if (file_ == nullptr) {
        return absl::InvalidArgumentError("checkpoint data past its last file");
      }
    }
    const std::string_view piece = data.substr(0, std::min<uint64_t>(data.size(), file_remaining_));
    if (absl::Status s = file_->Append(piece); !s.ok()) return s;
    crc_ = base::crc32c::Extend(crc_, piece.data(), piece.size());
    file_remaining_ -= piece.size();
    written_ += piece.size();
    data.remove_prefix(piece.size());
  }
  return absl::OkStatus();
}

absl::Status CheckpointSink::Finish(uint32_t crc32c) {
  if (!created_ || finished_) return absl::FailedPreconditionError("no checkpoint to finish");
  if (written_ != total_) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint ended after ", written_, " of ", total_, " bytes"));
  }
  if (crc_ != crc32c) {
    return absl::DataLossError("checkpoint checksum mismatch: the transfer was corrupted");
  }
  // Closes the last file and creates the empty ones after it.
  if (file_remaining_ == 0) {
    if (absl::Status s = NextFile(); !s.ok()) return s;
  }
  if (absl::Status s = CloseFile(); !s.ok()) return s;
  if (absl::Status s = env_->SyncDir(path_); !s.ok()) return s;
  const std::string final_path = ReceivedCheckpointPath(options_.dir, index_);
  absl::StatusOr<bool> exists = env_->Exists(final_path);
  if (!exists.ok()) return exists.status();
  if (*exists) {
    // The same state (a checkpoint is named by its applied index) arrived before and waits to
    // be installed; keep that one.
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  } else {
    if (absl::Status s = env_->Rename(path_, final_path); !s.ok()) return s;
    if (absl::Status s = env_->SyncDir(options_.dir); !s.ok()) return s;
  }
  finished_ = true;
  path_ = final_path;
  return absl::OkStatus();
}

}  // namespace raftkv::transport
