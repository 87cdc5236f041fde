#include "map_node.h"

#include <utility>

#include "command.h"
#include "raftkv/raft/config.h"

namespace replicated_map {

namespace raft = raftkv::raft;
namespace raftpb = raftkv::raftpb;

MapNode::MapNode(uint64_t id, std::unique_ptr<raft::MemoryStorage> storage,
                 raftpb::ConfState conf_state)
    : id_(id), storage_(std::move(storage)), conf_state_(std::move(conf_state)) {}

absl::StatusOr<std::unique_ptr<MapNode>> MapNode::Found(uint64_t id,
                                                        const std::vector<uint64_t>& members) {
  // A new cluster starts from a log that holds only its founding configuration. Every founder
  // is given the same one; a member that joins later starts from an empty log instead and is
  // added with a configuration change.
  raftpb::ConfState founders;
  for (uint64_t member : members) founders.add_voters(member);
  auto storage = std::make_unique<raft::MemoryStorage>();
  if (absl::Status s = storage->Bootstrap(founders); !s.ok()) return s;

  std::unique_ptr<MapNode> node(new MapNode(id, std::move(storage), founders));
  raft::Config config;
  config.id = id;
  config.storage = node->storage_.get();
  config.election_ticks = 10;
  config.heartbeat_ticks = 1;
  // A member that was cut off does not disrupt the cluster when it comes back (thesis §9.6),
  // and a leader that lost its quorum steps down.
  config.pre_vote = true;
  config.check_quorum = true;
  // Different seeds so that the members' election timeouts differ.
  config.random_seed = id;
  auto raw = raft::RawNode::Create(config);
  if (!raw.ok()) return raw.status();
  node->raw_ = *std::move(raw);
  return node;
}

absl::Status MapNode::HandleReadies(std::vector<raftpb::Message>& outbox) {
  while (raw_->HasReady()) {
    raft::Ready ready = raw_->GetReady();
    // Storage could not return committed entries: this member must stop.
    if (absl::Status s = raw_->Error(); !s.ok()) return s;
    if (ready.soft_state.has_value()) leader_ = ready.soft_state->leader;

    // 1. The leader's appends and heartbeats may leave before its own write (thesis §10.2.1).
    for (auto& m : ready.messages) outbox.push_back(std::move(m));
    // 2. Persist: snapshot, entries, hard state. MemoryStorage is "durable" at once; a real
    //    embedder writes and, when ready.must_sync, syncs here.
    if (absl::Status s = Persist(ready); !s.ok()) return s;
    // 3. Votes and append responses promise durable state: only now may they leave.
    for (auto& m : ready.persisted_messages) outbox.push_back(std::move(m));
    // 4. Apply the snapshot and the committed entries, in log order.
    if (absl::Status s = Apply(ready); !s.ok()) return s;
    // 5. Tell the core this Ready is handled.
    raw_->Advance();
  }
  return absl::OkStatus();
}

absl::Status MapNode::Persist(const raft::Ready& ready) {
  if (ready.snapshot.has_value() && ready.snapshot->metadata().index() > 0) {
    if (absl::Status s = storage_->ApplySnapshot(*ready.snapshot); !s.ok()) return s;
  }
  if (absl::Status s = storage_->Append(ready.entries); !s.ok()) return s;
  if (ready.hard_state.has_value()) storage_->SetHardState(*ready.hard_state);
  return absl::OkStatus();
}

absl::Status MapNode::Apply(const raft::Ready& ready) {
  if (ready.snapshot.has_value() && ready.snapshot->metadata().index() > 0) {
    // A snapshot replaces the whole state: the entries it covers are never handed out.
    std::map<std::string, std::string> restored;
    if (absl::Status s = ApplyRecords(ready.snapshot->data(), restored); !s.ok()) return s;
    map_ = std::move(restored);
    applied_ = ready.snapshot->metadata().index();
    installed_snapshot_ = applied_;
    conf_state_ = ready.snapshot->metadata().conf_state();
  }
  for (const raftpb::Entry& entry : ready.committed_entries) {
    if (absl::Status s = ApplyEntry(entry); !s.ok()) return s;
  }
  for (const raft::ReadState& read : ready.read_states) {
    read_indexes_[read.request_ctx] = read.index;
  }
  return absl::OkStatus();
}

absl::Status MapNode::ApplyEntry(const raftpb::Entry& entry) {
  switch (entry.entry_type()) {
    case raftpb::ENTRY_NORMAL:
      // A new leader commits an empty entry of its term first; it changes nothing.
      if (!entry.data().empty()) {
        if (absl::Status s = ApplyRecords(entry.data(), map_); !s.ok()) return s;
      }
      break;
    case raftpb::ENTRY_CONF_CHANGE: {
      raftpb::ConfChange change;
      if (!change.ParseFromString(entry.data())) {
        return absl::DataLossError("unparsable configuration change");
      }
      conf_state_ = raw_->ApplyConfChange(change);
      break;
    }
    case raftpb::ENTRY_CONF_CHANGE_V2: {
      raftpb::ConfChangeV2 change;
      if (!change.ParseFromString(entry.data())) {
        return absl::DataLossError("unparsable configuration change");
      }
      conf_state_ = raw_->ApplyConfChange(change);
      break;
    }
    default:
      return absl::DataLossError("unknown entry type");
  }
  applied_ = entry.index();
  return absl::OkStatus();
}

std::optional<uint64_t> MapNode::ReadIndexFor(const std::string& request_ctx) const {
  auto it = read_indexes_.find(request_ctx);
  if (it == read_indexes_.end()) return std::nullopt;
  return it->second;
}

absl::Status MapNode::SnapshotAndCompact() {
  auto snapshot = storage_->CreateSnapshot(applied_, &conf_state_, EncodeMap(map_));
  if (!snapshot.ok()) return snapshot.status();
  return storage_->Compact(applied_);
}

}  // namespace replicated_map
