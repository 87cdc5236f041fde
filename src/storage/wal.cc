#include "storage/wal.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>

#include "storage/segment_scan.h"

namespace raftkv::storage {
namespace {

// Reads a protobuf varint; false if malformed.
bool ReadVarint(std::string_view data, size_t* pos, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64 && *pos < data.size(); shift += 7) {
    const uint8_t byte = static_cast<uint8_t>(data[(*pos)++]);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

// Pulls term (field 2) and index (field 3) out of a serialized raftpb::Entry without parsing
// the data, which keeps replay of large entries cheap.
bool PeekEntryIndexTerm(std::string_view payload, uint64_t* index, uint64_t* term) {
  size_t pos = 0;
  *index = 0;
  *term = 0;
  while (pos < payload.size()) {
    uint64_t tag, value;
    if (!ReadVarint(payload, &pos, &tag)) return false;
    switch (tag & 7) {
      case 0:  // varint
        if (!ReadVarint(payload, &pos, &value)) return false;
        if ((tag >> 3) == 2) *term = value;
        if ((tag >> 3) == 3) *index = value;
        break;
      case 2:  // length-delimited
        if (!ReadVarint(payload, &pos, &value) || value > payload.size() - pos) return false;
        pos += value;
        break;
      case 1:
        pos += 8;
        break;
      case 5:
        pos += 4;
        break;
      default:
        return false;
    }
  }
  return pos == payload.size();
}

}  // namespace

// ---- WalBatch ----

void WalBatch::AddEntry(const raftpb::Entry& entry) {
  assert(entries_.empty() || entry.index() == entries_.back().index + 1);
  const uint64_t offset = data_.size();
  const size_t payload_bytes = entry.ByteSizeLong();
  // Serialized straight into the batch: an entry's data is copied once here and once more by
  // the kernel, never into a temporary.
  AppendRecordInPlace(
      RecordType::kEntry, payload_bytes,
      [&](char* dst) { entry.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(dst)); },
      &data_);
  entries_.push_back(
      {entry.index(), entry.term(), offset, static_cast<uint32_t>(data_.size() - offset)});
  effects_.push_back({Effect::kEntry, entry.index(), entry.term(), 0});
}

void WalBatch::SetHardState(const raftpb::HardState& hs) {
  AppendRecord(RecordType::kHardState, EncodeHardState(hs), &data_);
  effects_.push_back({Effect::kHardState, hs.term(), hs.vote(), hs.commit()});
}

void WalBatch::AddSnapshotMarker(const SnapshotMarker& marker, bool replace) {
  AppendRecord(RecordType::kSnapshot, EncodeSnapshotMarker(marker, replace), &data_);
  effects_.push_back({Effect::kSnapshot, marker.index, marker.term, replace ? 1u : 0u});
}

// ---- Wal ----

Wal::Wal(io::Env* env, std::string dir, WalOptions options)
    : env_(env), dir_(std::move(dir)), options_(options) {}

Wal::~Wal() = default;

std::string Wal::SegmentPath(uint64_t seq) const {
  return io::JoinPath(dir_, SegmentFileName(seq));
}

void Wal::Log(raft::LogLevel level, const std::string& message) const {
  if (options_.logger != nullptr) options_.logger->Log(level, message);
}

absl::StatusOr<std::unique_ptr<Wal>> Wal::Open(io::Env* env, const std::string& dir,
                                               const WalOptions& options, WalRecovery* recovery) {
  std::unique_ptr<Wal> wal(new Wal(env, dir, options));
  *recovery = WalRecovery();
  if (absl::Status s = wal->Recover(recovery); !s.ok()) return s;
  return wal;
}

absl::Status Wal::Recover(WalRecovery* rec) {
  if (absl::Status s = env_->CreateDir(dir_); !s.ok()) return s;
  const std::string lock_path = io::JoinPath(dir_, kLockFileName);
  auto lock = env_->LockFile(lock_path);
  if (!lock.ok()) {
    if (lock.status().code() == absl::StatusCode::kFailedPrecondition) {
      return absl::FailedPreconditionError(fmt::format(
          "data directory {} is already in use by another process (lock file {} is held)", dir_,
          lock_path));
    }
    return lock.status();
  }
  lock_ = std::move(*lock);

  auto names = env_->ListDir(dir_);
  if (!names.ok()) return names.status();
  std::vector<uint64_t> seqs;
  bool has_snapshot_files = false;
  for (const std::string& name : *names) {
    if (name.size() > kTempSuffix.size() && name.ends_with(kTempSuffix)) {
      // A segment roll or snapshot write that crashed before its rename.
      if (absl::Status s = env_->Remove(io::JoinPath(dir_, name)); !s.ok()) return s;
      Log(raft::LogLevel::kWarn,
          fmt::format("removed {} left by an interrupted segment roll or snapshot",
                      io::JoinPath(dir_, name)));
    } else if (auto seq = ParseSegmentFileName(name)) {
      seqs.push_back(*seq);
    } else if (ParseSnapshotFileName(name)) {
      has_snapshot_files = true;
    }
  }
  std::sort(seqs.begin(), seqs.end());

  if (seqs.empty()) {
    if (has_snapshot_files) {
      return absl::DataLossError(fmt::format(
          "data directory {} holds snapshot files but no WAL segment; refusing to start a fresh "
          "log over them",
          dir_));
    }
    rec->fresh = true;
    state_ = SegmentHeader{};
    return CreateSegment(1);
  }

  // Segments before a gap in the numbering are leftovers of a compaction whose removals were
  // only partly made durable; the segment after the gap starts with a complete header, and the
  // final check below proves that nothing live was in them.
  size_t start = 0;
  for (size_t i = 1; i < seqs.size(); ++i) {
    if (seqs[i] != seqs[i - 1] + 1) start = i;
  }

  raftpb::HardState hs;
  std::optional<SnapshotMarker> snap;
  uint64_t first = 1;
  std::vector<EntryMeta>& entries = rec->entries;

  for (size_t i = start; i < seqs.size(); ++i) {
    const uint64_t seq = seqs[i];
    const std::string path = SegmentPath(seq);
    const bool newest = i + 1 == seqs.size();
    auto data = io::ReadFileToString(env_, path);
    if (!data.ok()) return data.status();
    bool saw_header = false;
    uint64_t header_bytes = 0;

    auto visit = [&](const DecodedRecord& record, uint64_t offset) -> absl::Status {
      auto corrupt = [&](std::string_view why) {
        return absl::DataLossError(
            fmt::format("WAL segment {} is corrupt at offset {}: {}", path, offset, why));
      };
      const RecordLocation loc{seq, offset, static_cast<uint32_t>(record.size_bytes)};
      if (!saw_header) {
        SegmentHeader h;
        if (record.type != RecordType::kSegmentHeader || !DecodeSegmentHeader(record.payload, &h) ||
            h.seq != seq) {
          return corrupt("the first record is not this segment's header");
        }
        saw_header = true;
        header_bytes = record.size_bytes;
        if (i == start) {
          hs = h.hard_state;
          snap = h.snapshot;
          first = std::max(h.last_index, snap ? snap->index : 0) + 1;
          entries.clear();
        }
        segments_.push_back({seq, h.last_index});
        return absl::OkStatus();
      }
      switch (record.type) {
        case RecordType::kSegmentHeader:
          return corrupt("a segment header in the middle of a segment");
        case RecordType::kEntry: {
          uint64_t index, term;
          if (!PeekEntryIndexTerm(record.payload, &index, &term)) {
            return corrupt("entry record does not parse");
          }
          if (snap && index <= snap->index) return absl::OkStatus();
          const uint64_t next = first + entries.size();
          if (index > next) {
            return corrupt(fmt::format("entry {} leaves a gap after entry {}", index, next - 1));
          }
          if (index < first) {
            entries.clear();
            first = index;
          } else {
            entries.resize(index - first);  // a conflicting suffix is replaced
          }
          entries.push_back({term, loc});
          return absl::OkStatus();
        }
        case RecordType::kHardState:
          if (!DecodeHardState(record.payload, &hs)) return corrupt("hard state does not parse");
          return absl::OkStatus();
        case RecordType::kSnapshot: {
          SnapshotMarker m;
          bool replace;
          if (!DecodeSnapshotMarker(record.payload, &m, &replace)) {
            return corrupt("snapshot marker does not parse");
          }
          if (replace || m.index + 1 >= first + entries.size()) {
            entries.clear();
          } else if (m.index >= first) {
            entries.erase(entries.begin(), entries.begin() + (m.index + 1 - first));
          }
          if (replace || m.index >= first) first = m.index + 1;
          snap = m;
          return absl::OkStatus();
        }
      }
      return corrupt("unknown record type");
    };

    auto scan = ScanSegment(*data, path, newest, visit);
    if (!scan.ok()) return scan.status();
    if (!saw_header) {
      return absl::DataLossError(
          fmt::format("WAL segment {} has no valid header record (it was synced before it "
                      "was given its name, so it cannot be torn)",
                      path));
    }
    if (newest) {
      auto file = env_->OpenFile(path, io::OpenMode::kReadWrite);
      if (!file.ok()) return file.status();
      active_ = std::move(*file);
      offset_ = scan->valid_end;
      header_end_ = header_bytes;
      // What was read back may still be only in the page cache (the process died, the machine
      // did not): only what a sync point recorded is known durable.
      durable_end_ = recorded_durable_end_ = std::max(header_bytes, scan->synced_end);
      if (scan->garbage_bytes > 0) {
        std::string later;
        if (scan->valid_record_in_tail != 0) {
          later = fmt::format(
              "; the valid records from offset {} on belong to the same unsynced "
              "stretch, written back before the pages in front of them",
              scan->valid_record_in_tail);
        }
        Log(raft::LogLevel::kWarn,
            fmt::format("WAL segment {}: dropped a torn tail of {} bytes at offset {} ({}{})", path,
                        scan->garbage_bytes, scan->valid_end, DecodeResultName(scan->stop), later));
        rec->dropped_tail_bytes = scan->garbage_bytes;
        if (absl::Status s = active_->Truncate(offset_); !s.ok()) return s;
        if (options_.preallocate) {
          if (absl::Status s = active_->Allocate(options_.segment_bytes); !s.ok()) return s;
        }
        if (absl::Status s = active_->Sync(); !s.ok()) return s;
        durable_end_ = offset_;
      }
    }
  }

  const uint64_t snap_index = snap ? snap->index : 0;
  if (first > snap_index + 1) {
    return absl::DataLossError(fmt::format(
        "WAL in {} resumes at entry {} but the newest snapshot ends at entry {}: entries {}..{} "
        "are missing (was a segment file removed?)",
        dir_, first, snap_index, snap_index + 1, first - 1));
  }
  if (first <= snap_index) {  // header-only replay can leave entries the snapshot covers
    const uint64_t drop = std::min<uint64_t>(snap_index + 1 - first, entries.size());
    entries.erase(entries.begin(), entries.begin() + drop);
    first = snap_index + 1;
  }

  for (size_t i = 0; i < start; ++i) {
    if (absl::Status s = env_->Remove(SegmentPath(seqs[i])); !s.ok()) return s;
    Log(raft::LogLevel::kInfo,
        fmt::format("removed compacted WAL segment {} left before a gap", SegmentPath(seqs[i])));
  }

  state_.seq = seqs.back();
  state_.hard_state = hs;
  state_.snapshot = snap;
  state_.last_index = first + entries.size() - 1;
  rec->hard_state = hs;
  rec->snapshot = snap;
  rec->first_index = first;
  return absl::OkStatus();
}

absl::Status Wal::CreateSegment(uint64_t seq) {
  state_.seq = seq;
  std::string header;
  AppendRecord(RecordType::kSegmentHeader, EncodeSegmentHeader(state_), &header);
  const std::string path = SegmentPath(seq);
  const std::string tmp = path + std::string(kTempSuffix);
  auto file = env_->OpenFile(tmp, io::OpenMode::kCreateTruncate);
  if (!file.ok()) return file.status();
  if (options_.preallocate) {
    if (absl::Status s = (*file)->Allocate(options_.segment_bytes); !s.ok()) return s;
  }
  if (absl::Status s = (*file)->WriteAt(0, header); !s.ok()) return s;
  if (absl::Status s = (*file)->Sync(); !s.ok()) return s;
  ++syncs_;
  if (absl::Status s = env_->Rename(tmp, path); !s.ok()) return s;
  if (absl::Status s = env_->SyncDir(dir_); !s.ok()) return s;
  active_ = std::move(*file);
  segments_.push_back({seq, state_.last_index});
  offset_ = header_end_ = durable_end_ = recorded_durable_end_ = header.size();
  return absl::OkStatus();
}

absl::Status Wal::Roll() {
  // Trim the preallocated space we did not use, so only the newest segment ever has a zero
  // tail, and make the old segment durable before the new one can hold anything.
  if (absl::Status s = active_->Truncate(offset_); !s.ok()) return s;
  if (absl::Status s = active_->Sync(); !s.ok()) return s;
  ++syncs_;
  return CreateSegment(segments_.back().seq + 1);
}

absl::Status Wal::Fail(absl::Status s) {
  if (failed_.ok()) {
    failed_ = absl::Status(
        s.code(), fmt::format("WAL in {} failed and accepts no more writes until it is reopened "
                              "(nothing acknowledged is lost): {}",
                              dir_, std::string(s.message())));
  }
  return failed_;
}

void Wal::ApplyEffects(const WalBatch& batch) {
  for (const WalBatch::Effect& e : batch.effects_) {
    switch (e.kind) {
      case WalBatch::Effect::kEntry:
        state_.last_index = e.a;
        break;
      case WalBatch::Effect::kHardState:
        state_.hard_state.set_term(e.a);
        state_.hard_state.set_vote(e.b);
        state_.hard_state.set_commit(e.c);
        break;
      case WalBatch::Effect::kSnapshot:
        state_.snapshot = SnapshotMarker{e.a, e.b};
        state_.last_index = e.c != 0 ? e.a : std::max(state_.last_index, e.a);
        break;
    }
  }
}

absl::Status Wal::Write(const WalBatch& batch, bool sync, std::vector<RecordLocation>* locations) {
  const WalBatch* group[] = {&batch};
  return WriteBatches(group, sync, locations);
}

absl::Status Wal::WriteGroup(std::span<const WalBatch* const> batches, bool sync) {
  return WriteBatches(batches, sync, nullptr);
}

absl::Status Wal::WriteBatches(std::span<const WalBatch* const> batches, bool sync,
                               std::vector<RecordLocation>* locations) {
  if (!failed_.ok()) return failed_;
  uint64_t bytes = 0;
  std::vector<std::string_view> pieces;
  pieces.reserve(batches.size());
  for (const WalBatch* b : batches) {
    bytes += b->size_bytes();
    if (!b->empty()) pieces.push_back(b->data_);
  }
  if (bytes == 0) return sync ? Sync() : absl::OkStatus();
  // A sync returned since the last sync point: this write says so first. A roll makes the new
  // segment's header the sync point, so the check comes after it.
  const uint64_t sync_point_bytes = RecordBytes(8);
  const bool needs_sync_point = durable_end_ > recorded_durable_end_;
  if (offset_ > header_end_ &&
      offset_ + bytes + (needs_sync_point ? sync_point_bytes : 0) > options_.segment_bytes) {
    if (absl::Status s = Roll(); !s.ok()) return Fail(s);
  }
  std::string sync_point;
  if (durable_end_ > recorded_durable_end_) {
    AppendRecord(kSyncPoint, EncodeSyncPoint(durable_end_), &sync_point);
    pieces.insert(pieces.begin(), sync_point);
  }
  // One write call for the whole group, gathered from the batches' own buffers.
  if (absl::Status s = active_->GatherWriteAt(offset_, pieces); !s.ok()) return Fail(s);
  if (!sync_point.empty()) {
    offset_ += sync_point.size();
    recorded_durable_end_ = durable_end_;
  }
  for (const WalBatch* b : batches) {
    if (locations != nullptr) {
      for (const WalBatch::EntryInfo& e : b->entries_) {
        locations->push_back({segments_.back().seq, offset_ + e.offset, e.size_bytes});
      }
    }
    offset_ += b->size_bytes();
    ApplyEffects(*b);
  }
  return sync ? Sync() : absl::OkStatus();
}

absl::Status Wal::Sync() {
  if (!failed_.ok()) return failed_;
  if (absl::Status s = active_->DataSync(); !s.ok()) return Fail(s);
  ++syncs_;
  durable_end_ = offset_;
  return absl::OkStatus();
}

absl::Status Wal::RemoveSegmentsUpTo(uint64_t index) {
  size_t remove = 0;
  while (remove + 1 < segments_.size() && segments_[remove + 1].last_index_before <= index) {
    ++remove;
  }
  if (remove == 0) return absl::OkStatus();
  for (size_t k = 0; k < remove; ++k) {
    readers_.erase(segments_[k].seq);
    if (absl::Status s = env_->Remove(SegmentPath(segments_[k].seq)); !s.ok()) return s;
  }
  segments_.erase(segments_.begin(), segments_.begin() + remove);
  // Not needed for correctness (a resurrected old segment is skipped on open), but it keeps
  // the space from coming back after a crash.
  return env_->SyncDir(dir_);
}

absl::StatusOr<std::string> Wal::ReadPayload(const RecordLocation& location) const {
  auto payloads = ReadPayloads(location.seq, location.offset, location.size_bytes);
  if (!payloads.ok()) return payloads.status();
  return std::move(payloads->front());
}

absl::StatusOr<std::vector<std::string>> Wal::ReadPayloads(uint64_t seq, uint64_t offset,
                                                           uint64_t bytes) const {
  auto it = readers_.find(seq);
  if (it == readers_.end()) {
    auto file = env_->OpenFile(SegmentPath(seq), io::OpenMode::kReadOnly);
    if (!file.ok()) return file.status();
    it = readers_.emplace(seq, std::move(*file)).first;
  }
  std::string buf(bytes, '\0');
  auto n = it->second->ReadAt(offset, buf.size(), buf.data());
  if (!n.ok()) return n.status();
  std::vector<std::string> payloads;
  uint64_t pos = 0;
  while (pos < bytes) {
    DecodedRecord record;
    const DecodeResult r =
        DecodeRecord(std::string_view(buf.data() + pos, *n - std::min<uint64_t>(pos, *n)), &record);
    if (r != DecodeResult::kOk) {
      return absl::DataLossError(fmt::format("WAL segment {} is corrupt at offset {}: {}",
                                             SegmentPath(seq), offset + pos, DecodeResultName(r)));
    }
    payloads.emplace_back(record.payload);
    pos += record.size_bytes;
  }
  return payloads;
}

std::vector<uint64_t> Wal::segment_seqs() const {
  std::vector<uint64_t> out;
  for (const Segment& s : segments_) out.push_back(s.seq);
  return out;
}

}  // namespace raftkv::storage
