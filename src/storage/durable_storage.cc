#include "storage/durable_storage.h"

#include <fmt/format.h>

#include <algorithm>

#include "storage/snapshot_file.h"

namespace raftkv::storage {
namespace {
// Upper bound on one read of old entries from a segment.
constexpr uint64_t kMaxDiskReadBytes = 1 << 20;
}  // namespace

DurableStorage::DurableStorage(io::Env* env, std::string dir, const DurableStorageOptions& options)
    : env_(env), dir_(std::move(dir)), options_(options) {}

DurableStorage::~DurableStorage() = default;

absl::StatusOr<std::unique_ptr<DurableStorage>> DurableStorage::Open(
    io::Env* env, const std::string& dir, const DurableStorageOptions& options) {
  std::unique_ptr<DurableStorage> storage(new DurableStorage(env, dir, options));
  WalRecovery recovery;
  auto wal = Wal::Open(env, dir, options.wal, &recovery);
  if (!wal.ok()) return wal.status();
  storage->wal_ = std::move(*wal);
  if (absl::Status s = storage->Recover(recovery); !s.ok()) return s;
  return storage;
}

void DurableStorage::Log(raft::LogLevel level, const std::string& message) const {
  if (options_.wal.logger != nullptr) options_.wal.logger->Log(level, message);
}

absl::Status DurableStorage::Recover(const WalRecovery& rec) {
  hard_state_ = rec.hard_state;
  dropped_tail_bytes_ = rec.dropped_tail_bytes;
  if (rec.snapshot) {
    const std::string path =
        io::JoinPath(dir_, SnapshotFileName(rec.snapshot->index, rec.snapshot->term));
    auto snapshot = ReadSnapshotFile(env_, path);
    if (!snapshot.ok()) {
      if (absl::IsNotFound(snapshot.status())) {
        return absl::DataLossError(
            fmt::format("the WAL in {} commits snapshot {} but that file is missing", dir_, path));
      }
      return snapshot.status();
    }
    snapshot_meta_ = snapshot->metadata();
    has_snapshot_ = true;
  }
  offset_ = rec.first_index - 1;
  offset_term_ = rec.snapshot ? rec.snapshot->term : 0;
  index_.assign(rec.entries.begin(), rec.entries.end());
  PruneSnapshotFiles();
  // Segments the snapshot covers whose deletion a crash interrupted (or undid).
  if (absl::Status s = wal_->RemoveSegmentsUpTo(offset_); !s.ok()) return s;

  // The cache starts empty: warming it would cost one read per entry at every start (most of
  // a million-entry recovery), while raft reads the old tail at most once, to apply it.
  cache_first_ = LastIndex() + 1;
  return absl::OkStatus();
}

void DurableStorage::PruneSnapshotFiles() {
  auto names = env_->ListDir(dir_);
  if (!names.ok()) return;  // pruning is best effort; the next snapshot retries
  for (const std::string& name : *names) {
    auto marker = ParseSnapshotFileName(name);
    if (!marker) continue;
    if (has_snapshot_ && marker->index == snapshot_meta_.index() &&
        marker->term == snapshot_meta_.term()) {
      continue;
    }
    // Older files are superseded; newer ones were never committed by a WAL marker (a crash
    // between their rename and the marker's sync).
    const bool newer = !has_snapshot_ || marker->index > snapshot_meta_.index();
    if (env_->Remove(io::JoinPath(dir_, name)).ok() && newer) {
      Log(raft::LogLevel::kWarn,
          fmt::format("removed uncommitted snapshot file {}", io::JoinPath(dir_, name)));
    }
  }
}

absl::Status DurableStorage::Fail(absl::Status s) {
  if (failed_.ok()) failed_ = s;
  return s;
}

absl::Status DurableStorage::health() const {
  if (!failed_.ok()) return failed_;
  return wal_->health();
}

absl::Status DurableStorage::InitialState(raftpb::HardState* hard_state,
                                          raftpb::ConfState* conf_state) const {
  *hard_state = hard_state_;
  *conf_state = snapshot_meta_.conf_state();
  return absl::OkStatus();
}

uint64_t DurableStorage::FirstIndex() const { return offset_ + 1; }

uint64_t DurableStorage::LastIndex() const { return offset_ + index_.size(); }

absl::StatusOr<uint64_t> DurableStorage::Term(uint64_t i) const {
  if (i < offset_) return raft::CompactedError();
  if (i > LastIndex()) return raft::UnavailableError();
  if (i == offset_) return offset_term_;
  return index_[i - offset_ - 1].term;
}

absl::StatusOr<raftpb::Entry> DurableStorage::ReadEntry(uint64_t i) const {
  if (i >= cache_first_ && i - cache_first_ < cache_.size()) return cache_[i - cache_first_];
  const EntryMeta& meta = index_[i - offset_ - 1];
  auto payload = wal_->ReadPayload(meta.location);
  if (!payload.ok()) return payload.status();
  raftpb::Entry e;
  if (!e.ParseFromString(*payload) || e.index() != i) {
    return absl::DataLossError(
        fmt::format("WAL record for entry {} (segment {}, offset {}) holds something else", i,
                    meta.location.seq, meta.location.offset));
  }
  return e;
}

absl::StatusOr<std::vector<raftpb::Entry>> DurableStorage::Entries(uint64_t lo, uint64_t hi,
                                                                   uint64_t max_size_bytes) const {
  if (lo <= offset_) return raft::CompactedError();
  if (hi > LastIndex() + 1) {
    return absl::OutOfRangeError(
        fmt::format("entries [{}, {}) requested but the last index is {}", lo, hi, LastIndex()));
  }
  std::vector<raftpb::Entry> out;
  uint64_t total = 0;
  auto add = [&](raftpb::Entry e) {
    total += e.ByteSizeLong();
    if (!out.empty() && total > max_size_bytes) return false;
    out.push_back(std::move(e));
    return true;
  };
  for (uint64_t i = lo; i < hi;) {
    if (i >= cache_first_) {
      if (!add(cache_[i - cache_first_])) break;
      ++i;
      continue;
    }
    // Older entries: read the run of adjacent records in one segment with one read.
    const RecordLocation& first = index_[i - offset_ - 1].location;
    uint64_t j = i + 1;
    uint64_t bytes = first.size_bytes;
    while (j < hi && j < cache_first_ && bytes < kMaxDiskReadBytes) {
      const RecordLocation& next = index_[j - offset_ - 1].location;
      if (next.seq != first.seq || next.offset != first.offset + bytes) break;
      bytes += next.size_bytes;
      ++j;
    }
    auto payloads = wal_->ReadPayloads(first.seq, first.offset, bytes);
    if (!payloads.ok()) return payloads.status();
    for (const std::string& payload : *payloads) {
      raftpb::Entry e;
      if (!e.ParseFromString(payload) || e.index() != i) {
        return absl::DataLossError(
            fmt::format("WAL record for entry {} (segment {}) holds something else", i, first.seq));
      }
      if (!add(std::move(e))) return out;
      ++i;
    }
  }
  return out;
}

absl::StatusOr<raftpb::Snapshot> DurableStorage::Snapshot() const {
  if (!has_snapshot_) return raftpb::Snapshot();
  return ReadSnapshotFile(
      env_, io::JoinPath(dir_, SnapshotFileName(snapshot_meta_.index(), snapshot_meta_.term())));
}

void DurableStorage::CacheAppend(const raftpb::Entry& e) {
  if (cache_.empty()) cache_first_ = e.index();
  cache_bytes_ += e.ByteSizeLong();
  cache_.push_back(e);
  while (cache_bytes_ > options_.entry_cache_bytes && !cache_.empty()) {
    cache_bytes_ -= cache_.front().ByteSizeLong();
    cache_.pop_front();
    ++cache_first_;
  }
}

absl::Status DurableStorage::Bootstrap(const raftpb::ConfState& conf_state) {
  if (LastIndex() != 0 || FirstIndex() != 1 || has_snapshot_) {
    return absl::FailedPreconditionError(
        fmt::format("cannot bootstrap {}: it already holds a log", dir_));
  }
  raftpb::Snapshot snapshot;
  *snapshot.mutable_metadata()->mutable_conf_state() = conf_state;
  return WriteSnapshot(snapshot, /*replace=*/false);
}

absl::Status DurableStorage::Save(const std::optional<raftpb::HardState>& hard_state,
                                  const std::vector<raftpb::Entry>& entries, bool must_sync) {
  if (absl::Status s = health(); !s.ok()) return s;
  WalBatch batch;
  size_t skip = 0;
  if (!entries.empty()) {
    const uint64_t first = FirstIndex();
    if (entries.front().index() < first) {
      skip = std::min<uint64_t>(first - entries.front().index(), entries.size());
    }
    if (skip < entries.size() && entries[skip].index() > LastIndex() + 1) {
      return absl::InvalidArgumentError(
          fmt::format("missing log entries: last index {}, appended entries start at {}",
                      LastIndex(), entries[skip].index()));
    }
    for (size_t k = skip; k < entries.size(); ++k) {
      if (entries[k].ByteSizeLong() > kMaxRecordPayloadBytes) {
        return absl::InvalidArgumentError(fmt::format("entry {} is {} bytes; the WAL limit is {}",
                                                      entries[k].index(), entries[k].ByteSizeLong(),
                                                      kMaxRecordPayloadBytes));
      }
      batch.AddEntry(entries[k]);
    }
  }
  if (hard_state) batch.SetHardState(*hard_state);
  std::vector<RecordLocation> locations;
  if (absl::Status s = wal_->Write(batch, must_sync, &locations); !s.ok()) return Fail(s);

  if (skip < entries.size()) {
    const uint64_t start = entries[skip].index();
    index_.resize(start - offset_ - 1);  // the overwritten suffix goes
    if (start <= cache_first_) {
      cache_.clear();
      cache_bytes_ = 0;
    } else {
      while (cache_first_ + cache_.size() > start) {
        cache_bytes_ -= cache_.back().ByteSizeLong();
        cache_.pop_back();
      }
    }
    for (size_t k = skip; k < entries.size(); ++k) {
      index_.push_back({entries[k].term(), locations[k - skip]});
      CacheAppend(entries[k]);
    }
  }
  if (hard_state) hard_state_ = *hard_state;
  return absl::OkStatus();
}

absl::Status DurableStorage::WriteSnapshot(const raftpb::Snapshot& snapshot, bool replace) {
  if (absl::Status s = WriteSnapshotFile(env_, dir_, snapshot); !s.ok()) return Fail(s);
  WalBatch batch;
  batch.AddSnapshotMarker({snapshot.metadata().index(), snapshot.metadata().term()}, replace);
  if (absl::Status s = wal_->Write(batch, /*sync=*/true); !s.ok()) return Fail(s);
  snapshot_meta_ = snapshot.metadata();
  has_snapshot_ = true;
  PruneSnapshotFiles();
  return absl::OkStatus();
}

absl::Status DurableStorage::ApplySnapshot(const raftpb::Snapshot& snapshot) {
  if (absl::Status s = health(); !s.ok()) return s;
  if (snapshot_meta_.index() >= snapshot.metadata().index()) {
    return raft::SnapshotOutOfDateError();
  }
  if (absl::Status s = WriteSnapshot(snapshot, /*replace=*/true); !s.ok()) return s;
  offset_ = snapshot.metadata().index();
  offset_term_ = snapshot.metadata().term();
  index_.clear();
  cache_.clear();
  cache_bytes_ = 0;
  cache_first_ = offset_ + 1;
  return wal_->RemoveSegmentsUpTo(offset_);
}

absl::StatusOr<raftpb::Snapshot> DurableStorage::CreateSnapshot(uint64_t i,
                                                                const raftpb::ConfState* conf_state,
                                                                std::string data) {
  if (absl::Status s = health(); !s.ok()) return s;
  if (i <= snapshot_meta_.index()) return raft::SnapshotOutOfDateError();
  if (i > LastIndex()) {
    return absl::InvalidArgumentError(
        fmt::format("snapshot index {} is beyond the last index {}", i, LastIndex()));
  }
  auto term = Term(i);
  if (!term.ok()) return term.status();
  raftpb::Snapshot snapshot;
  raftpb::SnapshotMetadata* meta = snapshot.mutable_metadata();
  meta->set_index(i);
  meta->set_term(*term);
  *meta->mutable_conf_state() = conf_state != nullptr ? *conf_state : snapshot_meta_.conf_state();
  snapshot.set_data(std::move(data));
  if (absl::Status s = WriteSnapshot(snapshot, /*replace=*/false); !s.ok()) return s;
  return snapshot;
}

absl::Status DurableStorage::Compact(uint64_t compact_index) {
  if (absl::Status s = health(); !s.ok()) return s;
  if (compact_index <= offset_) return raft::CompactedError();
  if (compact_index > LastIndex()) {
    return absl::InvalidArgumentError(
        fmt::format("compact index {} is beyond the last index {}", compact_index, LastIndex()));
  }
  if (!has_snapshot_ || compact_index > snapshot_meta_.index()) {
    return absl::FailedPreconditionError(fmt::format(
        "cannot compact to {}: the newest snapshot is at {}, and entries after it would be lost",
        compact_index, has_snapshot_ ? snapshot_meta_.index() : 0));
  }
  offset_term_ = index_[compact_index - offset_ - 1].term;
  index_.erase(index_.begin(), index_.begin() + static_cast<ptrdiff_t>(compact_index - offset_));
  offset_ = compact_index;
  while (!cache_.empty() && cache_first_ <= offset_) {
    cache_bytes_ -= cache_.front().ByteSizeLong();
    cache_.pop_front();
    ++cache_first_;
  }
  // An empty cache holds no entry at all: it starts after the last one. (After a restart the
  // cache is cold while the log still holds entries past the compaction point.)
  if (cache_.empty()) cache_first_ = LastIndex() + 1;
  return wal_->RemoveSegmentsUpTo(compact_index);
}

}  // namespace raftkv::storage
