#include "node/log_store.h"

#include <cassert>
#include <utility>

namespace raftkv::node {

FoundingLog MakeFoundingLog(const std::vector<peerpb::Member>& founders) {
  FoundingLog log;
  for (const peerpb::Member& founder : founders) {
    raftpb::ConfChange change;
    change.set_change_type(raftpb::CONF_CHANGE_ADD_NODE);
    change.set_node_id(founder.id());
    change.set_context(founder.SerializeAsString());
    raftpb::Entry& entry = log.entries.emplace_back();
    entry.set_entry_type(raftpb::ENTRY_CONF_CHANGE);
    entry.set_term(1);
    entry.set_index(log.entries.size());
    entry.set_data(change.SerializeAsString());
  }
  if (!founders.empty()) {
    log.hard_state.set_term(1);
    log.hard_state.set_commit(log.entries.size());
  }
  return log;
}

MemoryLogStore::MemoryLogStore(const std::vector<peerpb::Member>& founders) {
  FoundingLog log = MakeFoundingLog(founders);
  if (log.entries.empty()) return;
  absl::Status s = storage_.Append(log.entries);
  assert(s.ok());
  (void)s;
  storage_.SetHardState(log.hard_state);
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

}  // namespace raftkv::node
