// ErrorInjectionEnv: wraps another Env and makes chosen operations fail.
//
// A test arms rules such as "the 3rd write from now fails with ENOSPC" or "every fsync fails
// with EIO"; a failing operation has no effect on the wrapped Env (a failed fsync therefore
// leaves the data unsynced, which FaultInjectionEnv then drops on Crash()). Errors look exactly
// like the POSIX ones (same codes and message shape), so the code under test cannot tell.
//
// Thread-safe. Files opened through it must not outlive it.
#pragma once

#include <cerrno>
#include <cstdint>
#include <mutex>
#include <vector>

#include "io/env.h"

namespace raftkv::io {

enum class EnvOp {
  kAny,
  kOpen,
  kWrite,  // File::Append, File::WriteAt and File::GatherWriteAt
  kRead,
  kSync,  // File::Sync and File::DataSync
  kTruncate,
  kAllocate,
  kSyncDir,
  kRename,
  kRemove,
  kListDir,
  kCreateDir,
  kLock,
};

class ErrorInjectionEnv final : public Env {
 public:
  explicit ErrorInjectionEnv(Env* base);
  ~ErrorInjectionEnv() override;

  // The n-th (1-based) operation of `op` from now fails once with error_number (EIO, ENOSPC...).
  void FailNth(EnvOp op, uint64_t n, int error_number);
  // Every operation of `op` from now on fails with error_number.
  void FailAll(EnvOp op, int error_number);
  // Shorthand for FailAll(EnvOp::kSync, EIO).
  void FailSyncs() { FailAll(EnvOp::kSync, EIO); }
  void ClearFailures();
  // Operations of `op` that reached the wrapped Env or failed here, since construction.
  uint64_t count(EnvOp op) const;

  absl::StatusOr<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override;
  absl::Status CreateDir(const std::string& path) override;
  absl::Status SyncDir(const std::string& dir) override;
  absl::Status Rename(const std::string& from, const std::string& to) override;
  absl::Status Remove(const std::string& path) override;
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) override;
  absl::StatusOr<bool> Exists(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;

 private:
  class ErrorFile;
  struct Rule {
    EnvOp op;
    uint64_t remaining;  // 0 for a rule that fails every match
    int error_number;
  };

  // OK, or the injected error for this operation on `path`.
  absl::Status Check(EnvOp op, const char* what, std::string_view path);

  Env* const base_;
  mutable std::mutex mu_;
  std::vector<Rule> rules_;
  std::vector<uint64_t> counts_;
};

}  // namespace raftkv::io
