#include "server/log_store.h"

#include <cassert>
#include <utility>

namespace raftkv::server {

MemoryLogStore::MemoryLogStore(const raftpb::ConfState& founding) {
  absl::Status s = storage_.Bootstrap(founding);
  assert(s.ok());
  (void)s;
}

absl::Status MemoryLogStore::Save(const raft::Ready& ready) {
  if (ready.snapshot.has_value()) {
    absl::Status s = storage_.ApplySnapshot(*ready.snapshot);
    if (!s.ok() && !raft::IsSnapshotOutOfDate(s)) return s;
  }
  if (!ready.entries.empty()) {
    if (absl::Status s = storage_.Append(ready.entries); !s.ok()) return s;
  }
  if (ready.hard_state.has_value()) storage_.SetHardState(*ready.hard_state);
  return absl::OkStatus();
}

absl::Status MemoryLogStore::CreateSnapshot(uint64_t index, const raftpb::ConfState& conf_state,
                                            std::string data) {
  return storage_.CreateSnapshot(index, &conf_state, std::move(data)).status();
}

absl::Status MemoryLogStore::Compact(uint64_t index) { return storage_.Compact(index); }

}  // namespace raftkv::server
