// The key-value engine's directory in the member directory, and the checkpoints beside it:
//
//   member/kv/                          the engine's files (kv::RocksDbEngine)
//   member/kv.old/                      the files an install is replacing (during one only)
//   member/snap-recv-<index>/           a received checkpoint, waiting to be installed
//   member/snap-recv-<index>.part-<id>/ a checkpoint being received, or kept from a transfer
//     (and .part-<id>.manifest)         that broke for the same checkpoint to resume
//                                       (transport/partial_checkpoint.h)
//   member/snap-recv-<index>.tmp-<n>/   a checkpoint being received without a transfer id
//   member/snap-send-<n>/               a checkpoint being sent to a peer, or kept for the next
//                                       snapshot to it after a transfer that broke
//
// Installing a received checkpoint swaps directories: kv -> kv.old, snap-recv-<index> -> kv,
// fsync member/, remove kv.old. Each step is a rename, so a crash at any point leaves either
// the old engine (with the checkpoint still waiting; the restart installs it again) or the new
// one; Recover, run before the engine is opened, puts an interrupted swap back together
// (docs/storage.md, "Installing a checkpoint, and crashes").
//
// Thread-safety: SwapIn and Recover from one thread (the node thread, or start-up);
// NewSendDirectory from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "io/env.h"
#include "spdlog/spdlog.h"

namespace raftkv::server {

class EngineFiles {
 public:
  // Null env: io::Env::Default().
  EngineFiles(std::string member_dir, std::shared_ptr<spdlog::logger> logger,
              io::Env* env = nullptr);

  const std::string& member_dir() const { return member_dir_; }
  std::string kv_dir() const { return member_dir_ + "/kv"; }
  std::string received_dir(uint64_t index) const;
  absl::StatusOr<bool> HasReceived(uint64_t index) const {
    return env_->Exists(received_dir(index));
  }
  absl::StatusOr<bool> HasEngine() const { return env_->Exists(kv_dir()); }

  // Before the engine is opened: finishes or undoes an install that a crash interrupted, and
  // removes what transfers in progress at the crash left (partial and sent checkpoints, those
  // kept to resume a broken transfer too: a transfer never resumes across a restart).
  absl::Status Recover();
  // Removes every received checkpoint but `keep` (the one the raft log's snapshot refers to,
  // when the engine has not installed it yet) and those above `keep_above` (they may belong to
  // snapshots on their way to raft). Failures only cost space; they are logged.
  void PruneReceived(std::optional<uint64_t> keep, uint64_t keep_above);
  // Makes the received checkpoint at `index` the engine's directory. REQUIRES: the engine is
  // closed and received_dir(index) exists.
  absl::Status SwapIn(uint64_t index);
  // A path, not yet existing, for a checkpoint to send.
  std::string NewSendDirectory();

 private:
  void RemoveTree(const std::string& path);

  const std::string member_dir_;
  std::shared_ptr<spdlog::logger> logger_;
  io::Env* const env_;
  std::atomic<uint64_t> sends_{0};
};

}  // namespace raftkv::server
