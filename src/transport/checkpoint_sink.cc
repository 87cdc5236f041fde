#include "transport/checkpoint_sink.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <set>
#include <system_error>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/crc32c.h"
#include "transport/checkpoint.h"
#include "transport/partial_checkpoint.h"

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

// Memory for reading back the bytes a resumed transfer holds.
constexpr size_t kReadBackBytes = 1 << 20;

// A stored manifest is one this member wrote, of at most max_files names of at most 255 bytes.
uint64_t MaxManifestBytes(const CheckpointSinkOptions& options) {
  return static_cast<uint64_t>(options.max_files) * (kMaxNameBytes + 32) + 64;
}

}  // namespace

absl::StatusOr<uint64_t> FreeBytesOf(const std::string& dir) {
  struct statvfs fs;
  if (::statvfs(dir.c_str(), &fs) != 0) return io::ErrnoError(errno, "statvfs", dir);
  return static_cast<uint64_t>(fs.f_bavail) * static_cast<uint64_t>(fs.f_frsize);
}

CheckpointSink::CheckpointSink(CheckpointSinkOptions options)
    : options_(std::move(options)),
      env_(options_.env != nullptr ? options_.env : io::Env::Default()) {}

absl::StatusOr<uint64_t> HeldCheckpointBytes(const CheckpointSinkOptions& options, uint64_t index,
                                             uint64_t transfer_id) {
  if (options.dir.empty()) {
    return absl::FailedPreconditionError("this member does not accept snapshots as files");
  }
  if (transfer_id == 0) return 0;
  io::Env* env = options.env != nullptr ? options.env : io::Env::Default();
  const std::string path = PartialCheckpointPath(options.dir, index, transfer_id);
  std::unique_ptr<PartialClaim> claim = PartialClaim::Take(path);
  if (claim == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("a transfer of the checkpoint at index ", index, " is in progress"));
  }
  absl::StatusOr<peerpb::CheckpointManifest> stored =
      ReadPartialManifest(env, path, MaxManifestBytes(options));
  if (!stored.ok() || stored->index() != index || stored->transfer_id() != transfer_id) return 0;
  absl::StatusOr<HeldPart> held = MeasurePartial(env, path, *stored);
  // What cannot be measured is not resumed; a transfer from byte 0 replaces it.
  return held.ok() ? held->bytes : 0;
}

void CheckpointSink::AlignedFree::operator()(char* p) const { std::free(p); }

CheckpointSink::~CheckpointSink() {
  const bool keep = created_ && !finished_ && claim_ != nullptr && !discard_;
  if (keep && file_ != nullptr) {
    // The buffered bytes were received: the transfer that resumes need not send them again.
    FlushDirect(/*to_the_end=*/true).IgnoreError();
  }
  // The writer thread uses the file until its write returns.
  if (in_flight_.valid()) in_flight_.wait();
  file_.reset();
  if (created_ && !finished_ && !keep) {
    // A transfer that failed leaves nothing behind (Env has no directory removal); one that
    // broke and can resume keeps its partial copy.
    if (claim_ != nullptr) {
      RemovePartial(path_);
    } else {
      std::error_code ignored;
      std::filesystem::remove_all(path_, ignored);
    }
  }
  claim_.reset();
}

absl::Status CheckpointSink::Begin(const peerpb::CheckpointManifest& manifest,
                                   uint64_t total_size_bytes, uint64_t offset) {
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
  if (offset > sum) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint stream resumes at offset ", offset, " of ", sum, " bytes"));
  }
  index_ = manifest.index();
  files_.assign(manifest.files().begin(), manifest.files().end());
  total_ = sum;
  if (manifest.transfer_id() == 0) {
    // Not resumable: a directory of its own, removed if the transfer does not complete.
    if (offset != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint stream without a transfer id resumes at offset ", offset));
    }
    if (absl::Status s = CheckFreeSpace(sum); !s.ok()) return s;
    path_ = TemporaryCheckpointPath(options_.dir, index_, partial_counter.fetch_add(1));
    // Left over by a process that died mid-transfer with the same counter value.
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
    if (absl::Status s = env_->CreateDir(path_); !s.ok()) return s;
    created_ = true;
    return absl::OkStatus();
  }
  path_ = PartialCheckpointPath(options_.dir, index_, manifest.transfer_id());
  claim_ = PartialClaim::Take(path_);
  if (claim_ == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("a transfer of the checkpoint at index ", index_, " is in progress"));
  }
  HeldPart held;
  if (offset > 0) {
    // The sender's offset is only a claim: it must be what the files on disk hold.
    absl::StatusOr<HeldPart> found = HeldOf(manifest);
    if (!found.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint stream resumes at offset ", offset, " but this member holds ",
                       "no usable partial copy of it (", found.status().message(), ")"));
    }
    if (found->bytes != offset) {
      return absl::InvalidArgumentError(absl::StrCat("checkpoint stream resumes at offset ", offset,
                                                     " but this member holds ", found->bytes,
                                                     " bytes of it"));
    }
    held = *found;
  }
  // One partial copy at a time: the others are another checkpoint's, which will not resume.
  PartialClaim::RemoveUnclaimed(env_, options_.dir, path_);
  if (absl::Status s = CheckFreeSpace(sum - held.bytes); !s.ok()) return s;
  if (offset == 0) {
    RemovePartial(path_);
    if (absl::Status s = env_->CreateDir(path_); !s.ok()) return s;
    created_ = true;
    if (absl::Status s = WritePartialManifest(env_, path_, manifest); !s.ok()) return s;
    return absl::OkStatus();
  }
  created_ = true;
  if (absl::Status s = ReadBack(held); !s.ok()) {
    Discard();
    return s;
  }
  return absl::OkStatus();
}

absl::Status CheckpointSink::CheckFreeSpace(uint64_t needed) const {
  absl::StatusOr<uint64_t> free =
      options_.free_bytes ? options_.free_bytes(options_.dir) : FreeBytesOf(options_.dir);
  if (!free.ok()) return free.status();
  if (needed > *free) {
    const std::string to_come =
        needed == total_ ? std::string() : absl::StrCat(" (", needed, " of them still to come)");
    return absl::ResourceExhaustedError(absl::StrCat("checkpoint of ", total_, " bytes", to_come,
                                                     " does not fit in the ", *free,
                                                     " bytes free in ", options_.dir));
  }
  return absl::OkStatus();
}

absl::StatusOr<HeldPart> CheckpointSink::HeldOf(const peerpb::CheckpointManifest& manifest) const {
  absl::StatusOr<peerpb::CheckpointManifest> stored =
      ReadPartialManifest(env_, path_, MaxManifestBytes(options_));
  if (!stored.ok()) return stored.status();
  if (!SameCheckpoint(*stored, manifest)) {
    return absl::FailedPreconditionError("the partial copy is of another checkpoint");
  }
  return MeasurePartial(env_, path_, manifest);
}

absl::Status CheckpointSink::ReadBack(const HeldPart& held) {
  std::string buffer;
  const size_t last = held.next_file_started ? held.next_file + 1 : held.next_file;
  for (size_t i = 0; i < last; ++i) {
    const peerpb::CheckpointFile& listed = files_[i];
    const uint64_t size = i < held.next_file ? listed.size_bytes() : held.next_file_bytes;
    absl::StatusOr<std::unique_ptr<io::File>> file =
        env_->OpenFile(io::JoinPath(path_, listed.name()), io::OpenMode::kReadOnly);
    if (!file.ok()) return file.status();
    uint64_t offset = 0;
    while (offset < size) {
      buffer.resize(static_cast<size_t>(std::min<uint64_t>(kReadBackBytes, size - offset)));
      absl::StatusOr<size_t> read = (*file)->ReadAt(offset, buffer.size(), buffer.data());
      if (!read.ok()) return read.status();
      if (*read == 0) {
        return absl::DataLossError(absl::StrCat("the partial checkpoint file ", listed.name(),
                                                " in ", path_, " shrank while it was read"));
      }
      crc_ = base::crc32c::Extend(crc_, buffer.data(), *read);
      offset += *read;
    }
    // Written by a transfer that broke, maybe never synced.
    if (absl::Status s = (*file)->Sync(); !s.ok()) return s;
    if (absl::Status s = (*file)->Close(); !s.ok()) return s;
  }
  written_ = held.bytes;
  resumed_from_ = held.bytes;
  next_file_ = held.next_file;
  if (held.next_file_started) {
    absl::StatusOr<std::unique_ptr<io::File>> file =
        env_->OpenFile(io::JoinPath(path_, files_[next_file_].name()), io::OpenMode::kCreate);
    if (!file.ok()) return file.status();
    StartFile(*std::move(file), held.next_file_bytes, files_[next_file_].size_bytes());
    ++next_file_;
  }
  return absl::OkStatus();
}

absl::Status CheckpointSink::CloseFile() {
  if (file_ == nullptr) return absl::OkStatus();
  if (absl::Status s = FlushDirect(/*to_the_end=*/true); !s.ok()) return s;
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
    StartFile(*std::move(file), 0, next.size_bytes());
    if (file_remaining_ > 0) return absl::OkStatus();
    if (absl::Status s = CloseFile(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void CheckpointSink::StartFile(std::unique_ptr<io::File> file, uint64_t held, uint64_t size) {
  file_ = std::move(file);
  file_remaining_ = size - held;
  file_on_disk_ = held;
  direct_buffered_ = 0;
  direct_ = false;
  if (!options_.direct_writes || file_remaining_ < kDirectMinFileBytes ||
      held % io::kDirectIoAlignment != 0) {
    return;
  }
  for (std::unique_ptr<char[], AlignedFree>* buffer : {&direct_buffer_, &spare_buffer_}) {
    if (*buffer == nullptr) {
      buffer->reset(
          static_cast<char*>(std::aligned_alloc(io::kDirectIoAlignment, kDirectBufferBytes)));
      if (*buffer == nullptr) return;
    }
  }
  // Where the file system has no direct writes, the page cache it is.
  direct_ = file_->SetDirectWrites(true).ok();
}

absl::Status CheckpointSink::AppendToFile(std::string_view piece) {
  while (!piece.empty()) {
    if (!direct_) {
      if (absl::Status s = file_->WriteAt(file_on_disk_, piece); !s.ok()) return s;
      file_on_disk_ += piece.size();
      return absl::OkStatus();
    }
    const size_t n = std::min(piece.size(), kDirectBufferBytes - direct_buffered_);
    std::memcpy(direct_buffer_.get() + direct_buffered_, piece.data(), n);
    direct_buffered_ += n;
    piece.remove_prefix(n);
    if (direct_buffered_ == kDirectBufferBytes) {
      if (absl::Status s = FlushDirect(/*to_the_end=*/false); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status CheckpointSink::FlushDirect(bool to_the_end) {
  if (!direct_) return absl::OkStatus();
  if (absl::Status s = AwaitWrite(); !s.ok()) return s;
  const size_t whole = direct_ ? direct_buffered_ - direct_buffered_ % io::kDirectIoAlignment : 0;
  if (whole > 0) {
    // Mid-file the disk takes this buffer while the next one fills from the stream; at the end
    // of the file the tail waits for it.
    StartWrite(whole);
    if (!to_the_end) return absl::OkStatus();
    if (absl::Status s = AwaitWrite(); !s.ok()) return s;
  }
  if ((to_the_end || !direct_) && direct_buffered_ > 0) {
    // A direct write cannot take the file's last partial block. Whatever happens next, the
    // file goes on through the page cache from file_on_disk_.
    direct_ = false;
    if (absl::Status s = file_->SetDirectWrites(false); !s.ok()) return s;
    const std::string_view rest(direct_buffer_.get(), direct_buffered_);
    direct_buffered_ = 0;
    if (absl::Status s = file_->WriteAt(file_on_disk_, rest); !s.ok()) return s;
    file_on_disk_ += rest.size();
  }
  return absl::OkStatus();
}

void CheckpointSink::StartWrite(size_t bytes) {
  std::swap(direct_buffer_, spare_buffer_);
  in_flight_offset_ = file_on_disk_;
  in_flight_bytes_ = bytes;
  direct_buffered_ -= bytes;
  std::memcpy(direct_buffer_.get(), spare_buffer_.get() + bytes, direct_buffered_);
  file_on_disk_ += bytes;
  io::File* file = file_.get();
  const std::string_view data(spare_buffer_.get(), bytes);
  const uint64_t offset = in_flight_offset_;
  try {
    in_flight_ = std::async(std::launch::async,
                            [file, data, offset] { return file->WriteAt(offset, data); });
  } catch (const std::system_error&) {
    // No thread to be had: the write is made here and now.
    std::promise<absl::Status> done;
    done.set_value(file->WriteAt(offset, data));
    in_flight_ = done.get_future();
  }
}

absl::Status CheckpointSink::AwaitWrite() {
  if (!in_flight_.valid()) return absl::OkStatus();
  absl::Status s = in_flight_.get();
  if (s.ok()) return s;
  if (!absl::IsInvalidArgument(s)) {
    // Nothing more goes to this file: the bytes after the failed write must not land beyond a
    // gap (a kept partial copy holds only bytes written in order).
    direct_ = false;
    direct_buffered_ = 0;
    file_on_disk_ = in_flight_offset_;
    return s;
  }
  // The device wants a coarser alignment than ours: this write and the rest of the file go
  // through the page cache (FlushDirect writes what the other buffer holds).
  direct_ = false;
  if (absl::Status off = file_->SetDirectWrites(false); !off.ok()) return off;
  return file_->WriteAt(in_flight_offset_, std::string_view(spare_buffer_.get(), in_flight_bytes_));
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
    if (absl::Status s = AppendToFile(piece); !s.ok()) return s;
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
    Discard();
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
    RemovePartial(path_);
  } else {
    if (absl::Status s = env_->Rename(path_, final_path); !s.ok()) return s;
    if (absl::Status s = env_->SyncDir(options_.dir); !s.ok()) return s;
    std::error_code ignored;
    std::filesystem::remove(PartialManifestPath(path_), ignored);
  }
  finished_ = true;
  path_ = final_path;
  return absl::OkStatus();
}

}  // namespace raftkv::transport
