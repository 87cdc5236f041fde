// EnvWrapper and FileWrapper: an Env and a File that pass every call to another one, for the
// Envs that watch or change a few operations of a real one (timing syncs, gating them in a
// test, checking direct writes) and override only those.
//
// Thread-safety: that of the wrapped Env and File.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/env.h"

namespace raftkv::io {

class FileWrapper : public File {
 public:
  explicit FileWrapper(std::unique_ptr<File> base) : base_(std::move(base)) {}

  absl::Status Append(std::string_view data) override { return base_->Append(data); }
  absl::Status WriteAt(uint64_t offset, std::string_view data) override {
    return base_->WriteAt(offset, data);
  }
  absl::Status GatherWriteAt(uint64_t offset, std::span<const std::string_view> pieces) override {
    return base_->GatherWriteAt(offset, pieces);
  }
  absl::StatusOr<size_t> ReadAt(uint64_t offset, size_t n, char* scratch) const override {
    return base_->ReadAt(offset, n, scratch);
  }
  absl::Status Sync() override { return base_->Sync(); }
  absl::Status DataSync() override { return base_->DataSync(); }
  absl::Status Truncate(uint64_t size) override { return base_->Truncate(size); }
  absl::Status Allocate(uint64_t size) override { return base_->Allocate(size); }
  absl::StatusOr<uint64_t> Size() const override { return base_->Size(); }
  absl::Status Close() override { return base_->Close(); }
  absl::Status SetDirectWrites(bool on) override { return base_->SetDirectWrites(on); }

 protected:
  File* base() const { return base_.get(); }

 private:
  std::unique_ptr<File> base_;
};

class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* base) : base_(base) {}

  absl::StatusOr<std::unique_ptr<File>> OpenFile(const std::string& path,
                                                 OpenMode mode) override {
    return base_->OpenFile(path, mode);
  }
  absl::Status CreateDir(const std::string& path) override { return base_->CreateDir(path); }
  absl::Status SyncDir(const std::string& dir) override { return base_->SyncDir(dir); }
  absl::Status Rename(const std::string& from, const std::string& to) override {
    return base_->Rename(from, to);
  }
  absl::Status Remove(const std::string& path) override { return base_->Remove(path); }
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) override {
    return base_->ListDir(dir);
  }
  absl::StatusOr<bool> Exists(const std::string& path) override { return base_->Exists(path); }
  absl::StatusOr<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    return base_->LockFile(path);
  }

 protected:
  Env* base() const { return base_; }

 private:
  Env* const base_;
};

}  // namespace raftkv::io
