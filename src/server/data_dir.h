// The data directory: created on first start, locked for the lifetime of the process so that
// two servers never share one (two writers of one WAL would corrupt it).
//
// Layout (etcd-like):
//   <data-dir>/raftkv.lock      held with flock(2) while the server runs
//   <data-dir>/member/cluster   the founding membership (membership.h)
//   <data-dir>/member/raft/     the raft log: WAL segments and snapshot files (storage)
//   <data-dir>/member/kv/       the key-value state with --engine rocksdb (kv::RocksDbEngine)
//   <data-dir>/member/snap-*    checkpoints of the state received or being sent (engine_files.h)
//
// Thread-safety: not thread-safe; owned by the server's main thread.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace raftkv::server {

class DataDir {
 public:
  // Creates the directories when missing and takes the lock. FailedPrecondition naming the
  // directory when another process holds it; PermissionDenied/Internal when it cannot be made.
  static absl::StatusOr<DataDir> Open(const std::string& path);
  DataDir(DataDir&& other) noexcept;
  DataDir& operator=(DataDir&& other) = delete;
  ~DataDir();

  const std::string& path() const { return path_; }
  std::string member_dir() const { return path_ + "/member"; }
  std::string cluster_file() const { return path_ + "/member/cluster"; }
  std::string kv_dir() const { return path_ + "/member/kv"; }

 private:
  DataDir(std::string path, int lock_fd) : path_(std::move(path)), lock_fd_(lock_fd) {}
  std::string path_;
  int lock_fd_ = -1;
};

}  // namespace raftkv::server
