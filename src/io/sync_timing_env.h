// SyncTimingEnv: wraps another Env and reports how long every fsync/fdatasync of a file took.
//
// It is how the server fills etcd's etcd_disk_wal_fsync_duration_seconds without the storage
// layer knowing about metrics: the data directory is opened through this Env, and the callback
// records into a histogram. Every other operation passes straight through.
//
// Thread-safe if `observe` is. Files opened through it must not outlive it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "io/env.h"

namespace raftkv::io {

class SyncTimingEnv final : public Env {
 public:
  // `observe(path, elapsed)` runs after each File::Sync and File::DataSync, successful or not,
  // on the syncing thread.
  using Observer = std::function<void(const std::string& path, absl::Duration elapsed)>;
  SyncTimingEnv(Env* base, Observer observe);

  absl::StatusOr<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override;
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

 private:
  class TimedFile;
  Env* const base_;
  const Observer observe_;
};

}  // namespace raftkv::io
