#include "io/error_injection_env.h"

#include <fmt/format.h>

namespace raftkv::io {

class ErrorInjectionEnv::ErrorFile final : public File {
 public:
  ErrorFile(ErrorInjectionEnv* env, std::unique_ptr<File> base, std::string path)
      : env_(env), base_(std::move(base)), path_(std::move(path)) {}

  absl::Status Append(std::string_view data) override {
    if (absl::Status s = env_->Check(EnvOp::kWrite, "pwrite", path_); !s.ok()) return s;
    return base_->Append(data);
  }
  absl::Status WriteAt(uint64_t offset, std::string_view data) override {
    if (absl::Status s = env_->Check(EnvOp::kWrite, "pwrite", path_); !s.ok()) return s;
    return base_->WriteAt(offset, data);
  }
  absl::Status GatherWriteAt(uint64_t offset, std::span<const std::string_view> pieces) override {
    if (absl::Status s = env_->Check(EnvOp::kWrite, "pwritev", path_); !s.ok()) return s;
    return base_->GatherWriteAt(offset, pieces);
  }
  absl::StatusOr<size_t> ReadAt(uint64_t offset, size_t n, char* scratch) const override {
    if (absl::Status s = env_->Check(EnvOp::kRead, "pread", path_); !s.ok()) return s;
    return base_->ReadAt(offset, n, scratch);
  }
  absl::Status Sync() override {
    if (absl::Status s = env_->Check(EnvOp::kSync, "fsync", path_); !s.ok()) return s;
    return base_->Sync();
  }
  absl::Status DataSync() override {
    if (absl::Status s = env_->Check(EnvOp::kSync, "fdatasync", path_); !s.ok()) return s;
    return base_->DataSync();
  }
  absl::Status Truncate(uint64_t size) override {
    if (absl::Status s = env_->Check(EnvOp::kTruncate, "ftruncate", path_); !s.ok()) return s;
    return base_->Truncate(size);
  }
  absl::Status Allocate(uint64_t size) override {
    if (absl::Status s = env_->Check(EnvOp::kAllocate, "fallocate", path_); !s.ok()) return s;
    return base_->Allocate(size);
  }
  absl::StatusOr<uint64_t> Size() const override { return base_->Size(); }
  absl::Status Close() override { return base_->Close(); }
  absl::Status SetDirectWrites(bool on) override { return base_->SetDirectWrites(on); }

 private:
  ErrorInjectionEnv* env_;
  std::unique_ptr<File> base_;
  std::string path_;
};

ErrorInjectionEnv::ErrorInjectionEnv(Env* base)
    : base_(base), counts_(static_cast<size_t>(EnvOp::kLock) + 1, 0) {}
ErrorInjectionEnv::~ErrorInjectionEnv() = default;

void ErrorInjectionEnv::FailNth(EnvOp op, uint64_t n, int error_number) {
  std::lock_guard lock(mu_);
  rules_.push_back({op, n == 0 ? 1 : n, error_number});
}

void ErrorInjectionEnv::FailAll(EnvOp op, int error_number) {
  std::lock_guard lock(mu_);
  rules_.push_back({op, 0, error_number});
}

void ErrorInjectionEnv::ClearFailures() {
  std::lock_guard lock(mu_);
  rules_.clear();
}

uint64_t ErrorInjectionEnv::count(EnvOp op) const {
  std::lock_guard lock(mu_);
  if (op == EnvOp::kAny) {
    uint64_t total = 0;
    for (uint64_t c : counts_) total += c;
    return total;
  }
  return counts_[static_cast<size_t>(op)];
}

absl::Status ErrorInjectionEnv::Check(EnvOp op, const char* what, std::string_view path) {
  std::lock_guard lock(mu_);
  ++counts_[static_cast<size_t>(op)];
  int error_number = 0;
  for (auto it = rules_.begin(); it != rules_.end();) {
    if (it->op != op && it->op != EnvOp::kAny) {
      ++it;
      continue;
    }
    if (it->remaining == 0) {  // fails every match
      if (error_number == 0) error_number = it->error_number;
      ++it;
    } else if (--it->remaining == 0) {
      if (error_number == 0) error_number = it->error_number;
      it = rules_.erase(it);
    } else {
      ++it;
    }
  }
  if (error_number == 0) return absl::OkStatus();
  return ErrnoError(error_number, what, path);
}

absl::StatusOr<std::unique_ptr<File>> ErrorInjectionEnv::OpenFile(const std::string& path,
                                                                  OpenMode mode) {
  if (absl::Status s = Check(EnvOp::kOpen, "open", path); !s.ok()) return s;
  auto file = base_->OpenFile(path, mode);
  if (!file.ok()) return file.status();
  return std::make_unique<ErrorFile>(this, std::move(*file), path);
}

absl::Status ErrorInjectionEnv::CreateDir(const std::string& path) {
  if (absl::Status s = Check(EnvOp::kCreateDir, "mkdir", path); !s.ok()) return s;
  return base_->CreateDir(path);
}

absl::Status ErrorInjectionEnv::SyncDir(const std::string& dir) {
  if (absl::Status s = Check(EnvOp::kSyncDir, "fsync", dir); !s.ok()) return s;
  return base_->SyncDir(dir);
}

absl::Status ErrorInjectionEnv::Rename(const std::string& from, const std::string& to) {
  if (absl::Status s = Check(EnvOp::kRename, "rename", fmt::format("{} -> {}", from, to));
      !s.ok()) {
    return s;
  }
  return base_->Rename(from, to);
}

absl::Status ErrorInjectionEnv::Remove(const std::string& path) {
  if (absl::Status s = Check(EnvOp::kRemove, "unlink", path); !s.ok()) return s;
  return base_->Remove(path);
}

absl::StatusOr<std::vector<std::string>> ErrorInjectionEnv::ListDir(const std::string& dir) {
  if (absl::Status s = Check(EnvOp::kListDir, "opendir", dir); !s.ok()) return s;
  return base_->ListDir(dir);
}

absl::StatusOr<bool> ErrorInjectionEnv::Exists(const std::string& path) {
  return base_->Exists(path);
}

absl::StatusOr<std::unique_ptr<FileLock>> ErrorInjectionEnv::LockFile(const std::string& path) {
  if (absl::Status s = Check(EnvOp::kLock, "flock", path); !s.ok()) return s;
  return base_->LockFile(path);
}

}  // namespace raftkv::io
