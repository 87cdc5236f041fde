// FaultInjectionEnv: an in-memory file system that can lose power.
//
// It keeps two views of every file and directory: what a reader sees now, and what would be
// found on the platter after a power cut. Data reaches the second view only through
// File::Sync/DataSync, and a created, renamed or removed name only through Env::SyncDir on its
// directory. Crash() replaces the first view with the second, so every unsynced byte and every
// unsynced name change disappears, exactly as the POSIX durability rules allow; with tearing
// on, the file written last also keeps a random prefix of its unsynced writes, the last kept
// one cut at an arbitrary byte (a torn write). A gathered write (File::GatherWriteAt) is one
// write here, cut anywhere in the concatenation of its pieces. All randomness comes from the
// seed, so a crash replays exactly.
//
// CrashWritingBackPagesInAnyOrder() is the other kind of power cut: the page cache had started
// writing the unsynced data back, in no particular order, so every page touched by an unsynced
// write reached the medium or did not, independently of the others. One write spanning several
// pages can then leave its later pages on disk and its earlier ones not (still zero in a
// preallocated file): what a real multi-page pwrite left before its fdatasync returned.
//
// CrashAfter(n) freezes the file system after n more mutating operations: every later call
// fails with Unavailable, as if the process had died at that instant, until Crash() is called.
// This puts a crash in the middle of a multi-step operation (between a snapshot's rename and
// its directory sync, say) without the code under test knowing.
//
// Use from a simulator: one FaultInjectionEnv per simulated node's disk; open the node's
// storage on it; to crash the node, destroy the storage object (its handles go stale), call
// Crash(), and reopen the storage on the same env and directory. Handles opened before a
// Crash() fail with FailedPrecondition, and locks are released by it.
//
// Directories are always durable once created (only names inside them are tracked).
// Thread-safe: one mutex guards the whole file system.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "base/rand.h"
#include "io/env.h"

namespace raftkv::io {

class FaultInjectionEnv final : public Env {
 public:
  explicit FaultInjectionEnv(uint64_t seed);
  ~FaultInjectionEnv() override;

  absl::StatusOr<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override;
  absl::Status CreateDir(const std::string& path) override;
  absl::Status SyncDir(const std::string& dir) override;
  absl::Status Rename(const std::string& from, const std::string& to) override;
  absl::Status Remove(const std::string& path) override;
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) override;
  absl::StatusOr<bool> Exists(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;

  // Power loss: see the file comment. Unfreezes the file system and releases all locks.
  void Crash(bool tear_last_write = true);
  // Power loss with page writeback in any order (see the file comment): each `page_bytes`-aligned
  // page that an unsynced write touched keeps either its durable content or its current one,
  // chosen at random (seeded). Unsynced size changes (allocations, truncations) are kept, as a
  // journaling file system commits them ahead of the data. Otherwise like Crash().
  void CrashWritingBackPagesInAnyOrder(uint64_t page_bytes = 4096);

  // Lets `ops` more mutating operations succeed, then freezes (see the file comment).
  void CrashAfter(uint64_t ops);
  bool frozen() const;

  // Mutating operations (creations, writes, truncations, allocations, syncs, renames,
  // removals) performed so far; handy for choosing a crash point.
  uint64_t mutating_ops() const;
  // Successful File::Sync/DataSync calls so far.
  uint64_t file_syncs() const;

  // Test hooks that bypass the durability model, for simulating media corruption.
  absl::StatusOr<std::string> Contents(const std::string& path) const;
  // XORs `mask` into the byte at offset in both views (the damage is on the medium).
  absl::Status CorruptByte(const std::string& path, uint64_t offset, uint8_t mask);
  // Replaces the contents in both views.
  absl::Status SetContents(const std::string& path, std::string data);

 private:
  class MemFile;
  class MemLock;
  struct Node;

  absl::Status CheckAliveLocked(uint64_t generation) const;
  absl::Status BeginMutationLocked();
  std::shared_ptr<Node> FindLocked(const std::string& path) const;
  // The part of a crash that follows deciding what each file kept: the namespace reverts to
  // its durable view, handles and locks die.
  void FinishCrashLocked();

  mutable std::mutex mu_;
  base::Rand rand_;
  std::map<std::string, std::shared_ptr<Node>> names_;          // the live namespace
  std::map<std::string, std::shared_ptr<Node>> durable_names_;  // what survives a crash
  std::set<std::string> dirs_;
  std::set<std::string> locks_;
  uint64_t generation_ = 0;  // bumped by Crash(); older handles are dead
  uint64_t op_seq_ = 0;      // orders unsynced writes across files
  uint64_t mutating_ops_ = 0;
  uint64_t file_syncs_ = 0;
  int64_t ops_until_freeze_ = -1;  // -1: no crash scheduled
  bool frozen_ = false;
};

}  // namespace raftkv::io
