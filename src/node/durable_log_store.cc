#include "node/durable_log_store.h"

#include <utility>

namespace raftkv::node {

absl::StatusOr<std::unique_ptr<DurableLogStore>> DurableLogStore::Open(
    io::Env* env, const std::string& dir, const std::vector<peerpb::Member>& founders,
    const storage::DurableStorageOptions& options) {
  absl::StatusOr<std::unique_ptr<storage::DurableStorage>> storage =
      storage::DurableStorage::Open(env, dir, options);
  if (!storage.ok()) return storage.status();
  raftpb::HardState hard_state;
  raftpb::ConfState conf_state;
  if (absl::Status s = (*storage)->InitialState(&hard_state, &conf_state); !s.ok()) return s;
  if (conf_state.voters_size() == 0 && (*storage)->LastIndex() == 0 && !founders.empty()) {
    FoundingLog log = MakeFoundingLog(founders);
    if (absl::Status s = (*storage)->Save(log.hard_state, log.entries, /*must_sync=*/true);
        !s.ok()) {
      return s;
    }
  }
  return std::unique_ptr<DurableLogStore>(new DurableLogStore(std::move(*storage)));
}

absl::Status DurableLogStore::Save(const raft::Ready& ready) {
  if (ready.snapshot.has_value()) {
    absl::Status s = storage_->ApplySnapshot(*ready.snapshot);
    if (!s.ok() && !raft::IsSnapshotOutOfDate(s)) return s;
  }
  if (ready.entries.empty() && !ready.hard_state.has_value()) return absl::OkStatus();
  // One write and, when the Ready requires it, one fdatasync for all of it. A Ready that
  // installs a snapshot syncs its hard state too: the snapshot marker is already durable, and a
  // restart must not find a commit index below the snapshot it restores (the core would start
  // with a commit index that went backwards).
  const bool sync = ready.must_sync || ready.snapshot.has_value();
  return storage_->Save(ready.hard_state, ready.entries, sync);
}

absl::Status DurableLogStore::CreateSnapshot(uint64_t index, const raftpb::ConfState& conf_state,
                                             std::string data) {
  return storage_->CreateSnapshot(index, &conf_state, std::move(data)).status();
}

absl::Status DurableLogStore::Compact(uint64_t index) { return storage_->Compact(index); }

}  // namespace raftkv::node
