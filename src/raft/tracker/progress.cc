#include "raft/tracker/progress.h"

#include <algorithm>

#include "absl/strings/substitute.h"
#include "base/check.h"

namespace raftkv::raft::tracker {

Progress::Progress(uint64_t next, size_t max_inflight, uint64_t max_inflight_bytes, bool is_learner)
    : next_(next), is_learner_(is_learner), inflights_(max_inflight, max_inflight_bytes) {
  RAFTKV_CHECK(next_ > match_, "progress next ", next_, " must be above match ", match_);
}

void Progress::ResetState(ProgressState state) {
  probe_sent_ = false;
  pending_snapshot_ = 0;
  state_ = state;
  inflights_.Reset();
}

void Progress::BecomeProbe() {
  if (state_ == ProgressState::kSnapshot) {
    // The snapshot may or may not have been installed: probe just after it, since a failed
    // install is answered by a rejection that moves next back anyway.
    const uint64_t pending = pending_snapshot_;
    ResetState(ProgressState::kProbe);
    next_ = std::max(match_ + 1, pending + 1);
  } else {
    ResetState(ProgressState::kProbe);
    next_ = match_ + 1;
  }
}

void Progress::BecomeReplicate() {
  ResetState(ProgressState::kReplicate);
  next_ = match_ + 1;
}

void Progress::BecomeSnapshot(uint64_t snapshot_index) {
  ResetState(ProgressState::kSnapshot);
  pending_snapshot_ = snapshot_index;
  next_ = std::max(next_, snapshot_index + 1);
}

void Progress::SentEntries(uint64_t last_index, size_t entries, uint64_t bytes) {
  switch (state_) {
    case ProgressState::kReplicate:
      if (entries > 0) {
        next_ = last_index + 1;
        inflights_.Add(last_index, bytes);
      }
      break;
    case ProgressState::kProbe:
      probe_sent_ = true;
      break;
    case ProgressState::kSnapshot:
      RAFTKV_CHECK(false, "sending entries to a follower in snapshot state");
      break;
  }
}

bool Progress::MaybeUpdate(uint64_t n) {
  bool updated = false;
  if (match_ < n) {
    match_ = n;
    updated = true;
    probe_sent_ = false;
  }
  next_ = std::max(next_, n + 1);
  return updated;
}

bool Progress::MaybeDecrTo(uint64_t rejected, uint64_t match_hint) {
  if (state_ == ProgressState::kReplicate) {
    // In replicate state every append after match was sent optimistically; a rejection at or
    // below match answers an old message.
    if (rejected <= match_) return false;
    next_ = match_ + 1;
    return true;
  }
  // In probe state only the last probe (previous index next-1) is outstanding.
  if (next_ == 0 || next_ - 1 != rejected) return false;
  next_ = std::max(std::min(rejected, match_hint + 1), match_ + 1);
  probe_sent_ = false;
  return true;
}

bool Progress::IsPaused() const {
  switch (state_) {
    case ProgressState::kProbe:
      return probe_sent_;
    case ProgressState::kReplicate:
      return inflights_.Full();
    case ProgressState::kSnapshot:
      return true;
  }
  return true;
}

ProgressStatus Progress::ToStatus() const {
  ProgressStatus s;
  s.match = match_;
  s.next = next_;
  s.state = state_;
  s.pending_snapshot = pending_snapshot_;
  s.recent_active = recent_active_;
  s.is_learner = is_learner_;
  s.paused = IsPaused();
  s.inflight = static_cast<int>(inflights_.Count());
  return s;
}

std::string Progress::String() const {
  std::string out =
      absl::Substitute("$0 match=$1 next=$2", ProgressStateName(state_), match_, next_);
  if (is_learner_) out += " learner";
  if (IsPaused()) out += " paused";
  if (pending_snapshot_ > 0) out += absl::Substitute(" pendingSnap=$0", pending_snapshot_);
  if (!recent_active_) out += " inactive";
  if (inflights_.Count() > 0) out += absl::Substitute(" inflight=$0", inflights_.Count());
  return out;
}

}  // namespace raftkv::raft::tracker
