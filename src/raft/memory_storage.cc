#include "raftkv/raft/memory_storage.h"

#include "absl/status/status.h"
#include "absl/strings/substitute.h"
#include "raft/util.h"

namespace raftkv::raft {

MemoryStorage::MemoryStorage() : entries_(1) {}

absl::Status MemoryStorage::InitialState(raftpb::HardState* hard_state,
                                         raftpb::ConfState* conf_state) const {
  *hard_state = hard_state_;
  *conf_state = snapshot_.metadata().conf_state();
  return absl::OkStatus();
}

uint64_t MemoryStorage::FirstIndex() const { return entries_[0].index() + 1; }

uint64_t MemoryStorage::LastIndex() const { return entries_[0].index() + entries_.size() - 1; }

absl::StatusOr<std::vector<raftpb::Entry>> MemoryStorage::Entries(uint64_t lo, uint64_t hi,
                                                                  uint64_t max_size_bytes) const {
  const uint64_t offset = entries_[0].index();
  if (lo <= offset) return CompactedError();
  if (hi > LastIndex() + 1) {
    return absl::OutOfRangeError(absl::Substitute(
        "entries [$0, $1) requested but the last index is $2", lo, hi, LastIndex()));
  }
  if (lo >= hi) return std::vector<raftpb::Entry>{};
  std::vector<raftpb::Entry> out(entries_.begin() + static_cast<ptrdiff_t>(lo - offset),
                                 entries_.begin() + static_cast<ptrdiff_t>(hi - offset));
  LimitSize(&out, max_size_bytes);
  return out;
}

absl::StatusOr<uint64_t> MemoryStorage::Term(uint64_t i) const {
  const uint64_t offset = entries_[0].index();
  if (i < offset) return CompactedError();
  if (i - offset >= entries_.size()) return UnavailableError();
  return entries_[i - offset].term();
}

absl::StatusOr<raftpb::Snapshot> MemoryStorage::Snapshot() const { return snapshot_; }

absl::Status MemoryStorage::Bootstrap(const raftpb::ConfState& conf_state) {
  if (LastIndex() != 0 || FirstIndex() != 1) {
    return absl::FailedPreconditionError("cannot bootstrap a storage that already has a log");
  }
  *snapshot_.mutable_metadata()->mutable_conf_state() = conf_state;
  return absl::OkStatus();
}

void MemoryStorage::SetHardState(const raftpb::HardState& hard_state) { hard_state_ = hard_state; }

absl::Status MemoryStorage::Append(const std::vector<raftpb::Entry>& entries) {
  if (entries.empty()) return absl::OkStatus();
  const uint64_t first = FirstIndex();
  const uint64_t last = entries.back().index();
  if (last < first) return absl::OkStatus();  // everything already compacted
  size_t skip = 0;
  if (entries.front().index() < first) skip = first - entries.front().index();
  const uint64_t start = entries[skip].index();
  if (start > LastIndex() + 1) {
    return absl::InvalidArgumentError(absl::Substitute(
        "missing log entries: last index $0, appended entries start at $1", LastIndex(), start));
  }
  // Drop the suffix the new entries overwrite, then append.
  entries_.resize(start - entries_[0].index());
  entries_.insert(entries_.end(), entries.begin() + static_cast<ptrdiff_t>(skip), entries.end());
  return absl::OkStatus();
}

absl::Status MemoryStorage::ApplySnapshot(const raftpb::Snapshot& snapshot) {
  if (snapshot_.metadata().index() >= snapshot.metadata().index()) {
    return SnapshotOutOfDateError();
  }
  snapshot_ = snapshot;
  entries_.assign(1, raftpb::Entry());
  entries_[0].set_index(snapshot.metadata().index());
  entries_[0].set_term(snapshot.metadata().term());
  return absl::OkStatus();
}

absl::StatusOr<raftpb::Snapshot> MemoryStorage::CreateSnapshot(uint64_t i,
                                                               const raftpb::ConfState* conf_state,
                                                               std::string data) {
  if (i <= snapshot_.metadata().index()) return SnapshotOutOfDateError();
  if (i > LastIndex()) {
    return absl::InvalidArgumentError(
        absl::Substitute("snapshot index $0 is beyond the last index $1", i, LastIndex()));
  }
  const uint64_t offset = entries_[0].index();
  snapshot_.mutable_metadata()->set_index(i);
  snapshot_.mutable_metadata()->set_term(entries_[i - offset].term());
  if (conf_state != nullptr) *snapshot_.mutable_metadata()->mutable_conf_state() = *conf_state;
  snapshot_.set_data(std::move(data));
  return snapshot_;
}

absl::Status MemoryStorage::Compact(uint64_t compact_index) {
  const uint64_t offset = entries_[0].index();
  if (compact_index <= offset) return CompactedError();
  if (compact_index > LastIndex()) {
    return absl::InvalidArgumentError(absl::Substitute(
        "compact index $0 is beyond the last index $1", compact_index, LastIndex()));
  }
  // The entry at compact_index becomes the dummy: it keeps its index and term.
  const size_t keep_from = compact_index - offset;
  std::vector<raftpb::Entry> kept;
  kept.reserve(entries_.size() - keep_from);
  kept.emplace_back();
  kept.back().set_index(entries_[keep_from].index());
  kept.back().set_term(entries_[keep_from].term());
  kept.insert(kept.end(), entries_.begin() + static_cast<ptrdiff_t>(keep_from) + 1, entries_.end());
  entries_ = std::move(kept);
  return absl::OkStatus();
}

}  // namespace raftkv::raft
