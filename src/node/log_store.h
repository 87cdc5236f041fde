// The node driver's view of the raft log it persists: the read-only raft::Storage the core
// consults, plus the writes the Ready loop performs on it.
//
// Two implementations: MemoryLogStore (nothing survives a restart; tests and --data-dir-less
// experiments) and the WAL-backed one in durable_log_store.h.
//
// Thread-safety: not thread-safe; only the raft thread touches a LogStore.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "raftkv/peerpb/peer.pb.h"
#include "raftkv/raft/memory_storage.h"
#include "raftkv/raft/ready.h"
#include "raftkv/raft/storage.h"

namespace raftkv::node {

// The log a founding member starts with, as etcd writes it: one committed configuration change
// per founder at indexes 1..n of term 1, each carrying the member in its context, and a hard
// state committing them. Keeping the founders in the log (rather than only in a snapshot) lets
// a member added later learn the whole configuration by replaying the log from its start.
struct FoundingLog {
  std::vector<raftpb::Entry> entries;
  raftpb::HardState hard_state;
};
FoundingLog MakeFoundingLog(const std::vector<peerpb::Member>& founders);

class LogStore {
 public:
  virtual ~LogStore() = default;

  virtual raft::Storage& storage() = 0;

  // Persists the Ready's snapshot, then its entries, then its hard state; when must_sync, all of
  // it reaches the disk with one fsync before this returns (thesis §10.2.1: the leader's appends
  // were already sent; responses wait for this). An error here is fatal for the node.
  virtual absl::Status Save(const raft::Ready& ready) = 0;

  // Records a snapshot of the applied state at `index` (the application's data), so that
  // followers that fell behind the compacted log can be sent it (§7).
  virtual absl::Status CreateSnapshot(uint64_t index, const raftpb::ConfState& conf_state,
                                      std::string data) = 0;

  // Drops the log before `index`. REQUIRES: index <= the last snapshot's index.
  virtual absl::Status Compact(uint64_t index) = 0;
};

class MemoryLogStore final : public LogStore {
 public:
  // A fresh log holding the founders' entries (MakeFoundingLog); with no founders, an empty log
  // for a member joining a running cluster.
  explicit MemoryLogStore(const std::vector<peerpb::Member>& founders);

  raft::Storage& storage() override { return storage_; }
  absl::Status Save(const raft::Ready& ready) override;
  absl::Status CreateSnapshot(uint64_t index, const raftpb::ConfState& conf_state,
                              std::string data) override;
  absl::Status Compact(uint64_t index) override;

 private:
  raft::MemoryStorage storage_;
};

}  // namespace raftkv::node
