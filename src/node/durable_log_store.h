// The server's raft log on disk: storage::DurableStorage (segmented WAL + snapshot files) behind
// the LogStore interface of the node driver.
//
// Thread-safety: not thread-safe; only the node driver touches it (like every LogStore).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "io/env.h"
#include "node/log_store.h"
#include "storage/durable_storage.h"

namespace raftkv::node {

class DurableLogStore final : public LogStore {
 public:
  // Opens (recovering) the log in `dir`. A log that holds nothing yet — a first start, or a
  // crash before the first write — starts with the founders' entries (MakeFoundingLog); with no
  // founders (a member joining a running cluster) it stays empty until the leader fills it.
  // Every file access goes through `env` (the real file system, or the simulator's
  // fault-injecting one). `env` and `options.wal.logger` (may be null) must outlive the store.
  static absl::StatusOr<std::unique_ptr<DurableLogStore>> Open(
      io::Env* env, const std::string& dir, const std::vector<peerpb::Member>& founders,
      const storage::DurableStorageOptions& options);

  raft::Storage& storage() override { return *storage_; }
  storage::DurableStorage& durable() { return *storage_; }
  absl::Status Save(const raft::Ready& ready) override;
  absl::Status CreateSnapshot(uint64_t index, const raftpb::ConfState& conf_state,
                              std::string data) override;
  absl::Status Compact(uint64_t index) override;

 private:
  explicit DurableLogStore(std::unique_ptr<storage::DurableStorage> storage)
      : storage_(std::move(storage)) {}
  std::unique_ptr<storage::DurableStorage> storage_;
};

}  // namespace raftkv::node
