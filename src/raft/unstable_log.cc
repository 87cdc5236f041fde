#include "raft/unstable_log.h"

#include <algorithm>

#include "base/check.h"

namespace raftkv::raft {

std::optional<uint64_t> UnstableLog::MaybeFirstIndex() const {
  if (snapshot_) return snapshot_->metadata().index() + 1;
  return std::nullopt;
}

std::optional<uint64_t> UnstableLog::MaybeLastIndex() const {
  if (!entries_.empty()) return offset_ + entries_.size() - 1;
  if (snapshot_) return snapshot_->metadata().index();
  return std::nullopt;
}

std::optional<uint64_t> UnstableLog::MaybeTerm(uint64_t i) const {
  if (i < offset_) {
    if (snapshot_ && snapshot_->metadata().index() == i) return snapshot_->metadata().term();
    return std::nullopt;
  }
  auto last = MaybeLastIndex();
  if (!last || i > *last) return std::nullopt;
  return entries_[i - offset_].term();
}

std::vector<raftpb::Entry> UnstableLog::NextEntries() const {
  const size_t in_progress = offset_in_progress_ - offset_;
  if (in_progress >= entries_.size()) return {};
  return {entries_.begin() + static_cast<ptrdiff_t>(in_progress), entries_.end()};
}

const raftpb::Snapshot* UnstableLog::NextSnapshot() const {
  if (!snapshot_ || snapshot_in_progress_) return nullptr;
  return &*snapshot_;
}

void UnstableLog::AcceptInProgress() {
  offset_in_progress_ = offset_ + entries_.size();
  if (snapshot_) snapshot_in_progress_ = true;
}

void UnstableLog::StableTo(uint64_t i, uint64_t t) {
  auto term = MaybeTerm(i);
  // Persisting entries that were since replaced (or already stabilized) changes nothing.
  if (!term || *term != t || i < offset_) return;
  const size_t n = i + 1 - offset_;
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<ptrdiff_t>(n));
  offset_ = i + 1;
  offset_in_progress_ = std::max(offset_in_progress_, offset_);
  if (entries_.capacity() > 64 && entries_.size() < entries_.capacity() / 4) {
    entries_.shrink_to_fit();
  }
}

void UnstableLog::StableSnapTo(uint64_t i) {
  if (snapshot_ && snapshot_->metadata().index() == i) {
    snapshot_.reset();
    snapshot_in_progress_ = false;
  }
}

void UnstableLog::Restore(const raftpb::Snapshot& snapshot) {
  offset_ = snapshot.metadata().index() + 1;
  offset_in_progress_ = offset_;
  entries_.clear();
  snapshot_ = snapshot;
  snapshot_in_progress_ = false;
}

void UnstableLog::TruncateAndAppend(const std::vector<raftpb::Entry>& entries) {
  if (entries.empty()) return;
  const uint64_t from = entries.front().index();
  if (from == offset_ + entries_.size()) {
    // Plain append after the existing tail.
  } else if (from <= offset_) {
    // Replaces the whole unstable tail (and some stable entries, which Storage will
    // overwrite when the application persists these).
    entries_.clear();
    offset_ = from;
    offset_in_progress_ = from;
  } else {
    // Keep [offset_, from), replace the rest.
    RAFTKV_CHECK(from < offset_ + entries_.size(), "appending at index ", from,
                 " leaves a gap after the last index ", offset_ + entries_.size() - 1);
    entries_.resize(from - offset_);
    offset_in_progress_ = std::min(offset_in_progress_, from);
  }
  entries_.insert(entries_.end(), entries.begin(), entries.end());
}

std::vector<raftpb::Entry> UnstableLog::Slice(uint64_t lo, uint64_t hi) const {
  RAFTKV_CHECK(lo <= hi && lo >= offset_ && hi <= offset_ + entries_.size(), "unstable slice [", lo,
               ", ", hi, ") is outside [", offset_, ", ", offset_ + entries_.size(), ")");
  return {entries_.begin() + static_cast<ptrdiff_t>(lo - offset_),
          entries_.begin() + static_cast<ptrdiff_t>(hi - offset_)};
}

}  // namespace raftkv::raft
