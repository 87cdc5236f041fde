#include "kv/power_cut_fs.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>
#include <utility>
#include <vector>

#include "fmt/format.h"

namespace raftkv::kv::testing {
namespace {

using rocksdb::FileOptions;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;

// RocksDB spells paths as it joins them ("dir//file", "dir/"): one spelling per file, so that a
// file and its directory are found under the names they were tracked by.
std::string Normalize(const std::string& path) {
  std::string normal = std::filesystem::path(path).lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

// (directory, name) of a normalized path.
std::pair<std::string, std::string> Split(const std::string& normal) {
  const size_t slash = normal.rfind('/');
  if (slash == std::string::npos) return {".", normal};
  return {slash == 0 ? "/" : normal.substr(0, slash), normal.substr(slash + 1)};
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

absl::Status Failed(std::string_view what, const std::string& path, const IOStatus& status) {
  return absl::InternalError(
      fmt::format("power cut: cannot {} {}: {}", what, path, status.ToString()));
}

}  // namespace

// A file open for writing: forwards everything, and tells the file system how far it was
// written and how far a sync covered.
class PowerCutFileSystem::TrackedFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  TrackedFile(PowerCutFileSystem* fs, uint64_t id, std::unique_ptr<rocksdb::FSWritableFile> file)
      : FSWritableFileOwnerWrapper(std::move(file)), fs_(fs), id_(id) {}
  ~TrackedFile() override { fs_->WriterClosed(); }

  IOStatus Append(const rocksdb::Slice& data, const IOOptions& options,
                  IODebugContext* dbg) override {
    IOStatus status = FSWritableFileOwnerWrapper::Append(data, options, dbg);
    if (status.ok()) fs_->Appended(id_, data.size());
    return status;
  }
  IOStatus Append(const rocksdb::Slice& data, const IOOptions& options,
                  const rocksdb::DataVerificationInfo& verification, IODebugContext* dbg) override {
    IOStatus status = FSWritableFileOwnerWrapper::Append(data, options, verification, dbg);
    if (status.ok()) fs_->Appended(id_, data.size());
    return status;
  }
  IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const IOOptions& options,
                            IODebugContext* dbg) override {
    IOStatus status = FSWritableFileOwnerWrapper::PositionedAppend(data, offset, options, dbg);
    if (status.ok()) fs_->WroteThrough(id_, offset + data.size());
    return status;
  }
  IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const IOOptions& options,
                            const rocksdb::DataVerificationInfo& verification,
                            IODebugContext* dbg) override {
    IOStatus status =
        FSWritableFileOwnerWrapper::PositionedAppend(data, offset, options, verification, dbg);
    if (status.ok()) fs_->WroteThrough(id_, offset + data.size());
    return status;
  }
  IOStatus Truncate(uint64_t size, const IOOptions& options, IODebugContext* dbg) override {
    IOStatus status = FSWritableFileOwnerWrapper::Truncate(size, options, dbg);
    if (status.ok()) fs_->Truncated(id_, size);
    return status;
  }
  // A sync covers what was written before it began; what another thread appends while it runs
  // may or may not be on the medium, so it does not count.
  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    const uint64_t before = fs_->SizeOf(id_);
    IOStatus status = FSWritableFileOwnerWrapper::Sync(options, dbg);
    if (status.ok()) fs_->Synced(id_, before);
    return status;
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    const uint64_t before = fs_->SizeOf(id_);
    IOStatus status = FSWritableFileOwnerWrapper::Fsync(options, dbg);
    if (status.ok()) fs_->Synced(id_, before);
    return status;
  }
  // RangeSync, Flush and Close are forwarded as they are: none makes data durable.

 private:
  PowerCutFileSystem* fs_;
  const uint64_t id_;
};

// A directory handle whose fsync makes the names changed in the directory durable.
class PowerCutFileSystem::TrackedDirectory final : public rocksdb::FSDirectoryWrapper {
 public:
  TrackedDirectory(PowerCutFileSystem* fs, std::string dir,
                   std::unique_ptr<rocksdb::FSDirectory> directory)
      : FSDirectoryWrapper(std::move(directory)), fs_(fs), dir_(std::move(dir)) {}

  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    return fs_->SyncDirectory(dir_, [&] { return FSDirectoryWrapper::Fsync(options, dbg); });
  }
  IOStatus FsyncWithDirOptions(const IOOptions& options, IODebugContext* dbg,
                               const rocksdb::DirFsyncOptions& dir_options) override {
    return fs_->SyncDirectory(
        dir_, [&] { return FSDirectoryWrapper::FsyncWithDirOptions(options, dbg, dir_options); });
  }

 private:
  PowerCutFileSystem* fs_;
  const std::string dir_;
};

PowerCutFileSystem::PowerCutFileSystem(const std::shared_ptr<rocksdb::FileSystem>& target)
    : FileSystemWrapper(target) {}

void PowerCutFileSystem::Appended(uint64_t id, uint64_t bytes) {
  std::lock_guard lock(mu_);
  if (auto it = files_.find(id); it != files_.end()) it->second.size += bytes;
}

void PowerCutFileSystem::WroteThrough(uint64_t id, uint64_t end_offset) {
  std::lock_guard lock(mu_);
  if (auto it = files_.find(id); it != files_.end()) {
    it->second.size = std::max(it->second.size, end_offset);
  }
}

uint64_t PowerCutFileSystem::SizeOf(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = files_.find(id);
  return it == files_.end() ? 0 : it->second.size;
}

void PowerCutFileSystem::Synced(uint64_t id, uint64_t size_before_sync) {
  std::lock_guard lock(mu_);
  if (auto it = files_.find(id); it != files_.end()) {
    it->second.synced = std::max(it->second.synced, std::min(size_before_sync, it->second.size));
  }
}

void PowerCutFileSystem::Truncated(uint64_t id, uint64_t size) {
  std::lock_guard lock(mu_);
  TruncatedLocked(id, size);
}

// Bytes cut off are gone whatever happens; bytes kept stay unsynced if they were.
void PowerCutFileSystem::TruncatedLocked(uint64_t id, uint64_t size) {
  if (auto it = files_.find(id); it != files_.end()) {
    it->second.size = size;
    it->second.synced = std::min(it->second.synced, size);
  }
}

void PowerCutFileSystem::WriterClosed() {
  std::lock_guard lock(mu_);
  --open_writers_;
}

IOStatus PowerCutFileSystem::SyncDirectory(const std::string& dir,
                                           const std::function<IOStatus()>& fsync) {
  std::lock_guard lock(mu_);
  IOStatus status = fsync();
  if (!status.ok()) return status;
  unsynced_names_.erase(dir);
  // A removed file that no durable name refers to any more cannot come back.
  std::erase_if(removed_bytes_,
                [&](const auto& removed) { return !IsDurablyNamedLocked(removed.first); });
  return status;
}

std::optional<uint64_t> PowerCutFileSystem::NamedLocked(const std::string& path) {
  if (auto it = names_.find(path); it != names_.end()) return it->second;
  // A regular file on disk that the wrapper did not write: it was there before, durable whole.
  bool is_directory = false;
  uint64_t size = 0;
  if (!target()->IsDirectory(path, IOOptions(), &is_directory, nullptr).ok() || is_directory ||
      !target()->GetFileSize(path, IOOptions(), &size, nullptr).ok()) {
    return std::nullopt;
  }
  const uint64_t id = next_id_++;
  files_[id] = FileState{.size = size, .synced = size};
  names_[path] = id;
  return id;
}

void PowerCutFileSystem::NoteNameChangeLocked(const std::string& path) {
  auto [dir, name] = Split(path);
  std::map<std::string, std::optional<uint64_t>>& changed = unsynced_names_[dir];
  if (changed.contains(name)) return;  // it named something else at the last fsync
  changed.emplace(name, NamedLocked(path));
}

bool PowerCutFileSystem::IsDurablyNamedLocked(uint64_t id) const {
  for (const auto& [dir, changed] : unsynced_names_) {
    for (const auto& [name, durable] : changed) {
      if (durable == id) return true;
    }
  }
  return false;
}

IOStatus PowerCutFileSystem::KeepDurableBytesLocked(const std::string& path, uint64_t id) {
  for (const auto& [other, other_id] : names_) {
    if (other_id == id && other != path) return IOStatus::OK();  // still on disk under `other`
  }
  if (!IsDurablyNamedLocked(id) || removed_bytes_.contains(id)) return IOStatus::OK();
  return ReadPrefix(path, files_[id].synced, &removed_bytes_[id]);
}

uint64_t PowerCutFileSystem::NewFileLocked(const std::string& path) {
  const uint64_t id = next_id_++;
  files_[id] = FileState{};
  names_[path] = id;
  return id;
}

std::unique_ptr<rocksdb::FSWritableFile> PowerCutFileSystem::TrackWriterLocked(
    uint64_t id, std::unique_ptr<rocksdb::FSWritableFile> file) {
  ++open_writers_;
  return std::make_unique<TrackedFile>(this, id, std::move(file));
}

IOStatus PowerCutFileSystem::NewWritableFile(const std::string& path, const FileOptions& options,
                                             std::unique_ptr<rocksdb::FSWritableFile>* result,
                                             IODebugContext* dbg) {
  std::lock_guard lock(mu_);
  const std::string normal = Normalize(path);
  const std::optional<uint64_t> existing = NamedLocked(normal);
  if (!existing) NoteNameChangeLocked(normal);
  IOStatus status = target()->NewWritableFile(path, options, result, dbg);
  if (!status.ok()) return status;
  uint64_t id = 0;
  if (existing) {
    // Truncated in place: the same file under the same name, none of its bytes synced.
    id = *existing;
    files_[id] = FileState{};
  } else {
    id = NewFileLocked(normal);
  }
  *result = TrackWriterLocked(id, std::move(*result));
  return status;
}

IOStatus PowerCutFileSystem::ReopenWritableFile(const std::string& path, const FileOptions& options,
                                                std::unique_ptr<rocksdb::FSWritableFile>* result,
                                                IODebugContext* dbg) {
  std::lock_guard lock(mu_);
  const std::string normal = Normalize(path);
  const std::optional<uint64_t> existing = NamedLocked(normal);
  if (!existing) NoteNameChangeLocked(normal);
  IOStatus status = target()->ReopenWritableFile(path, options, result, dbg);
  if (!status.ok()) return status;
  const uint64_t id = existing ? *existing : NewFileLocked(normal);
  // Appends go after what is on disk.
  uint64_t size = 0;
  status = target()->GetFileSize(path, IOOptions(), &size, dbg);
  if (!status.ok()) {
    result->reset();
    return status;
  }
  files_[id].size = size;
  files_[id].synced = std::min(files_[id].synced, size);
  *result = TrackWriterLocked(id, std::move(*result));
  return status;
}

// Both write into existing bytes, which the model does not keep (see the file comment).
IOStatus PowerCutFileSystem::ReuseWritableFile(const std::string&, const std::string&,
                                               const FileOptions&,
                                               std::unique_ptr<rocksdb::FSWritableFile>*,
                                               IODebugContext*) {
  return IOStatus::NotSupported("PowerCutFileSystem does not model reused (recycled) files");
}

IOStatus PowerCutFileSystem::NewRandomRWFile(const std::string&, const FileOptions&,
                                             std::unique_ptr<rocksdb::FSRandomRWFile>*,
                                             IODebugContext*) {
  return IOStatus::NotSupported("PowerCutFileSystem does not model random writes");
}

IOStatus PowerCutFileSystem::NewDirectory(const std::string& path, const IOOptions& options,
                                          std::unique_ptr<rocksdb::FSDirectory>* result,
                                          IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSDirectory> directory;
  IOStatus status = target()->NewDirectory(path, options, &directory, dbg);
  if (!status.ok()) return status;
  *result = std::make_unique<TrackedDirectory>(this, Normalize(path), std::move(directory));
  return status;
}

IOStatus PowerCutFileSystem::DeleteFile(const std::string& path, const IOOptions& options,
                                        IODebugContext* dbg) {
  std::lock_guard lock(mu_);
  const std::string normal = Normalize(path);
  NoteNameChangeLocked(normal);
  if (const std::optional<uint64_t> id = NamedLocked(normal)) {
    if (IOStatus kept = KeepDurableBytesLocked(normal, *id); !kept.ok()) return kept;
  }
  IOStatus status = target()->DeleteFile(path, options, dbg);
  if (status.ok()) names_.erase(normal);
  return status;
}

IOStatus PowerCutFileSystem::Truncate(const std::string& path, size_t size,
                                      const IOOptions& options, IODebugContext* dbg) {
  std::lock_guard lock(mu_);
  const std::optional<uint64_t> id = NamedLocked(Normalize(path));
  IOStatus status = target()->Truncate(path, size, options, dbg);
  if (status.ok() && id) TruncatedLocked(*id, size);
  return status;
}

IOStatus PowerCutFileSystem::RenameFile(const std::string& from, const std::string& to,
                                        const IOOptions& options, IODebugContext* dbg) {
  std::lock_guard lock(mu_);
  const std::string source = Normalize(from);
  const std::string destination = Normalize(to);
  if (source == destination) return target()->RenameFile(from, to, options, dbg);
  NoteNameChangeLocked(source);
  NoteNameChangeLocked(destination);
  const std::optional<uint64_t> moved = NamedLocked(source);
  const std::optional<uint64_t> replaced = NamedLocked(destination);
  if (replaced && replaced != moved) {
    if (IOStatus kept = KeepDurableBytesLocked(destination, *replaced); !kept.ok()) return kept;
  }
  IOStatus status = target()->RenameFile(from, to, options, dbg);
  if (!status.ok()) return status;
  names_.erase(source);
  names_.erase(destination);
  if (moved) names_[destination] = *moved;
  return status;
}

IOStatus PowerCutFileSystem::LinkFile(const std::string& from, const std::string& to,
                                      const IOOptions& options, IODebugContext* dbg) {
  std::lock_guard lock(mu_);
  const std::string destination = Normalize(to);
  NoteNameChangeLocked(destination);
  const std::optional<uint64_t> linked = NamedLocked(Normalize(from));
  IOStatus status = target()->LinkFile(from, to, options, dbg);
  if (status.ok() && linked) names_[destination] = *linked;
  return status;
}

IOStatus PowerCutFileSystem::ReadPrefix(const std::string& path, uint64_t bytes, std::string* out) {
  std::unique_ptr<rocksdb::FSSequentialFile> file;
  IOStatus status = target()->NewSequentialFile(path, FileOptions(), &file, nullptr);
  if (!status.ok()) return status;
  out->resize(bytes);
  size_t read = 0;
  while (read < bytes) {
    rocksdb::Slice slice;
    status = file->Read(bytes - read, IOOptions(), &slice, out->data() + read, nullptr);
    if (!status.ok()) return status;
    if (slice.empty()) break;
    if (slice.data() != out->data() + read)
      std::memmove(out->data() + read, slice.data(), slice.size());
    read += slice.size();
  }
  out->resize(read);
  return status;
}

IOStatus PowerCutFileSystem::WriteWhole(const std::string& path, const std::string& bytes) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  IOStatus status = target()->NewWritableFile(path, FileOptions(), &file, nullptr);
  if (status.ok()) status = file->Append(bytes, IOOptions(), nullptr);
  if (status.ok()) status = file->Close(IOOptions(), nullptr);
  return status;
}

// Through a file opened for writing, as RocksDB cuts its own logs: the local file system has no
// FileSystem::Truncate.
IOStatus PowerCutFileSystem::CutTo(const std::string& path, uint64_t size) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  IOStatus status = target()->ReopenWritableFile(path, FileOptions(), &file, nullptr);
  if (status.ok()) status = file->Truncate(size, IOOptions(), nullptr);
  if (status.ok()) status = file->Close(IOOptions(), nullptr);
  return status;
}

absl::Status PowerCutFileSystem::PowerCut() {
  std::lock_guard lock(mu_);
  if (open_writers_ > 0) {
    return absl::FailedPreconditionError(fmt::format(
        "power cut: {} files are open for writing; close the database first", open_writers_));
  }
  // Every name whose durable file is not the one it names now, and that file's synced bytes,
  // read before any name is touched (the file may be on disk under another changed name).
  struct Restore {
    std::string path;
    std::optional<uint64_t> durable;
  };
  std::vector<Restore> restores;
  std::map<uint64_t, std::string> bytes = std::move(removed_bytes_);
  for (const auto& [dir, changed] : unsynced_names_) {
    for (const auto& [name, durable] : changed) {
      const std::string path = Join(dir, name);
      const auto now = names_.find(path);
      if (now != names_.end() && durable == now->second) continue;
      if (now == names_.end() && !durable) continue;  // created and removed again
      restores.push_back(Restore{.path = path, .durable = durable});
      if (!durable || bytes.contains(*durable)) continue;
      const auto named = std::find_if(names_.begin(), names_.end(),
                                      [&](const auto& entry) { return entry.second == *durable; });
      if (named == names_.end()) {
        return absl::InternalError(fmt::format("power cut: lost the durable file of {}", path));
      }
      if (IOStatus read = ReadPrefix(named->first, files_[*durable].synced, &bytes[*durable]);
          !read.ok()) {
        return Failed("read", named->first, read);
      }
    }
  }
  std::set<std::string> restored;
  for (const Restore& restore : restores) {
    restored.insert(restore.path);
    if (target()->FileExists(restore.path, IOOptions(), nullptr).ok()) {
      if (IOStatus removed = target()->DeleteFile(restore.path, IOOptions(), nullptr);
          !removed.ok()) {
        return Failed("remove", restore.path, removed);
      }
    }
  }
  for (const Restore& restore : restores) {
    if (!restore.durable) continue;
    if (IOStatus written = WriteWhole(restore.path, bytes.at(*restore.durable)); !written.ok()) {
      return Failed("bring back", restore.path, written);
    }
  }
  // Every other name the wrapper tracks keeps its file, cut to its synced bytes.
  for (const auto& [path, id] : names_) {
    if (restored.contains(path)) continue;
    uint64_t on_disk = 0;
    if (IOStatus sized = target()->GetFileSize(path, IOOptions(), &on_disk, nullptr); !sized.ok()) {
      return Failed("read the size of", path, sized);
    }
    const uint64_t synced = files_.at(id).synced;
    if (on_disk <= synced) continue;
    if (IOStatus cut = CutTo(path, synced); !cut.ok()) {
      return Failed("truncate", path, cut);
    }
  }
  // What is on disk now is all there is, and all of it is durable.
  files_.clear();
  names_.clear();
  unsynced_names_.clear();
  removed_bytes_.clear();
  return absl::OkStatus();
}

}  // namespace raftkv::kv::testing
