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
#include "io/env_wrapper.h"

namespace raftkv::io {

class SyncTimingEnv final : public EnvWrapper {
 public:
  // `observe(path, elapsed)` runs after each File::Sync and File::DataSync, successful or not,
  // on the syncing thread.
  using Observer = std::function<void(const std::string& path, absl::Duration elapsed)>;
  SyncTimingEnv(Env* base, Observer observe);

  absl::StatusOr<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override;

 private:
  class TimedFile;
  const Observer observe_;
};

}  // namespace raftkv::io
