#include "raft/raft_log.h"

#include <algorithm>

#include "absl/strings/substitute.h"
#include "base/check.h"
#include "raft/util.h"

namespace raftkv::raft {

RaftLog::RaftLog(Storage* storage, Logger* logger, uint64_t max_applying_bytes)
    : storage_(storage),
      logger_(logger),
      unstable_(storage->LastIndex() + 1),
      max_applying_bytes_(max_applying_bytes) {
  // Everything up to the snapshot is committed and applied by definition.
  const uint64_t first = storage->FirstIndex();
  committed_ = first - 1;
  applying_ = first - 1;
  applied_ = first - 1;
}

uint64_t RaftLog::FirstIndex() const {
  if (auto i = unstable_.MaybeFirstIndex()) return *i;
  return storage_->FirstIndex();
}

uint64_t RaftLog::LastIndex() const {
  if (auto i = unstable_.MaybeLastIndex()) return *i;
  return storage_->LastIndex();
}

uint64_t RaftLog::LastTerm() const {
  auto t = Term(LastIndex());
  if (!t.ok()) {
    logger_->Log(LogLevel::kError,
                 absl::Substitute("term of the last entry unavailable: $0", t.status().ToString()));
    return 0;
  }
  return *t;
}

absl::StatusOr<uint64_t> RaftLog::Term(uint64_t i) const {
  // The valid range is [FirstIndex()-1, LastIndex()]: the entry before the first is the
  // snapshot's, whose term is remembered for the log-matching check.
  if (auto t = unstable_.MaybeTerm(i)) return *t;
  if (i + 1 < FirstIndex()) return CompactedError();
  if (i > LastIndex()) return UnavailableError();
  return storage_->Term(i);
}

uint64_t RaftLog::ZeroTermOnOutOfBounds(uint64_t i) const {
  auto t = Term(i);
  if (t.ok()) return *t;
  if (!IsCompacted(t.status()) && !raft::IsUnavailable(t.status())) {
    logger_->Log(LogLevel::kError,
                 absl::Substitute("reading term of $0: $1", i, t.status().ToString()));
  }
  return 0;
}

bool RaftLog::MatchTerm(uint64_t i, uint64_t term) const {
  auto t = Term(i);
  return t.ok() && *t == term;
}

bool RaftLog::IsUpToDate(uint64_t last_index, uint64_t term) const {
  const uint64_t my_term = LastTerm();
  return term > my_term || (term == my_term && last_index >= LastIndex());
}

std::optional<uint64_t> RaftLog::MaybeAppend(uint64_t index, uint64_t log_term, uint64_t committed,
                                             const std::vector<raftpb::Entry>& entries) {
  if (!MatchTerm(index, log_term)) return std::nullopt;
  const uint64_t last_new = index + entries.size();
  const uint64_t conflict = FindConflict(entries);
  if (conflict != 0) {
    // A conflict inside the committed prefix would mean two different entries were committed
    // at the same index: a violation of Leader Completeness (§5.4), never a peer's fault we
    // could recover from.
    RAFTKV_CHECK(conflict > committed_, "entry ", conflict,
                 " conflicts with the committed log (commit index ", committed_, ")");
    const size_t skip = conflict - (index + 1);
    Append({entries.begin() + static_cast<ptrdiff_t>(skip), entries.end()});
  }
  // Only what the leader sent is known to match the leader's log: commit no further than
  // the last entry of this message (§5.3, Figure 2 "min(leaderCommit, index of last new
  // entry)").
  CommitTo(std::min(committed, last_new));
  return last_new;
}

uint64_t RaftLog::Append(const std::vector<raftpb::Entry>& entries) {
  if (entries.empty()) return LastIndex();
  RAFTKV_CHECK(entries.front().index() > committed_, "appending at index ", entries.front().index(),
               " would replace committed entries (commit index ", committed_, ")");
  unstable_.TruncateAndAppend(entries);
  return LastIndex();
}

uint64_t RaftLog::FindConflict(const std::vector<raftpb::Entry>& entries) const {
  for (const raftpb::Entry& e : entries) {
    if (!MatchTerm(e.index(), e.term())) {
      if (e.index() <= LastIndex()) {
        logger_->Log(LogLevel::kInfo,
                     absl::Substitute("conflict at index $0: existing term $1, new term $2",
                                      e.index(), ZeroTermOnOutOfBounds(e.index()), e.term()));
      }
      return e.index();
    }
  }
  return 0;
}

std::pair<uint64_t, uint64_t> RaftLog::FindConflictByTerm(uint64_t index, uint64_t term) const {
  index = std::min(index, LastIndex());
  for (;; --index) {
    auto t = Term(index);
    if (!t.ok()) {
      // Compacted (or unreadable): nothing more is known; the snapshot covers it.
      return {index, 0};
    }
    if (*t <= term || index == 0) return {index, *t};
  }
}

bool RaftLog::HasNextCommittedEntries() const {
  if (unstable_.snapshot()) return false;  // the snapshot must be applied first
  return applying_ < committed_;
}

absl::StatusOr<std::vector<raftpb::Entry>> RaftLog::NextCommittedEntries() const {
  if (!HasNextCommittedEntries()) return std::vector<raftpb::Entry>{};
  auto entries = Slice(applying_ + 1, committed_ + 1, max_applying_bytes_);
  if (!entries.ok()) {
    // Not logged and dropped: the entries would stay due, and every later Ready would ask for
    // them again.
    return absl::Status(
        entries.status().code(),
        absl::Substitute("raft: cannot read the committed entries [$0, $1] from storage: $2",
                         applying_ + 1, committed_, std::string(entries.status().message())));
  }
  return entries;
}

void RaftLog::AcceptApplying(uint64_t index) {
  RAFTKV_CHECK(index <= committed_, "applying up to ", index, " is beyond the commit index ",
               committed_);
  applying_ = std::max(applying_, index);
}

void RaftLog::AppliedTo(uint64_t index) {
  if (index == 0) return;
  RAFTKV_CHECK(index <= committed_ && index >= applied_, "applied index ", index, " is outside [",
               applied_, ", ", committed_, "]");
  applied_ = index;
  applying_ = std::max(applying_, index);
}

bool RaftLog::MaybeCommit(uint64_t max_index, uint64_t term) {
  if (max_index > committed_ && ZeroTermOnOutOfBounds(max_index) == term) {
    CommitTo(max_index);
    return true;
  }
  return false;
}

void RaftLog::CommitTo(uint64_t index) {
  if (index <= committed_) return;
  RAFTKV_CHECK(index <= LastIndex(), "commit index ", index, " is beyond the last index ",
               LastIndex());
  committed_ = index;
}

absl::Status RaftLog::CheckOutOfBounds(uint64_t lo, uint64_t hi) const {
  RAFTKV_CHECK(lo <= hi, "invalid log slice [", lo, ", ", hi, ")");
  if (lo < FirstIndex()) return CompactedError();
  if (hi > LastIndex() + 1) return UnavailableError();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<raftpb::Entry>> RaftLog::Entries(uint64_t i,
                                                            uint64_t max_size_bytes) const {
  if (i > LastIndex()) return std::vector<raftpb::Entry>{};
  return Slice(i, LastIndex() + 1, max_size_bytes);
}

absl::StatusOr<std::vector<raftpb::Entry>> RaftLog::Slice(uint64_t lo, uint64_t hi,
                                                          uint64_t max_size_bytes) const {
  if (absl::Status s = CheckOutOfBounds(lo, hi); !s.ok()) return s;
  if (lo == hi) return std::vector<raftpb::Entry>{};
  std::vector<raftpb::Entry> out;
  const uint64_t offset = unstable_.offset();
  if (lo < offset) {
    auto stored = storage_->Entries(lo, std::min(hi, offset), max_size_bytes);
    if (!stored.ok()) return stored.status();
    out = *std::move(stored);
    // Storage stopped early because of the size limit: nothing from unstable fits.
    if (out.size() < std::min(hi, offset) - lo) return out;
  }
  if (hi > offset) {
    std::vector<raftpb::Entry> tail = unstable_.Slice(std::max(lo, offset), hi);
    out.insert(out.end(), std::make_move_iterator(tail.begin()),
               std::make_move_iterator(tail.end()));
  }
  LimitSize(&out, max_size_bytes);
  return out;
}

std::vector<raftpb::Entry> RaftLog::AllEntries() const {
  auto all = Entries(FirstIndex(), kNoLimit);
  if (!all.ok()) return {};
  return *std::move(all);
}

absl::StatusOr<raftpb::Snapshot> RaftLog::Snapshot() const {
  if (unstable_.snapshot()) return *unstable_.snapshot();
  return storage_->Snapshot();
}

void RaftLog::Restore(const raftpb::Snapshot& snapshot) {
  logger_->Log(LogLevel::kInfo,
               absl::Substitute("log [$0] starts to restore snapshot [index: $1, term: $2]",
                                String(), snapshot.metadata().index(), snapshot.metadata().term()));
  // Raft::Restore takes only snapshots past the commit index; an older one would drop
  // committed entries.
  RAFTKV_CHECK(snapshot.metadata().index() >= committed_, "restoring the snapshot at index ",
               snapshot.metadata().index(), " would move the commit index ", committed_,
               " backwards");
  committed_ = snapshot.metadata().index();
  unstable_.Restore(snapshot);
}

std::string RaftLog::String() const {
  return absl::Substitute("committed=$0, applied=$1, applying=$2, unstable.offset=$3, len=$4",
                          committed_, applied_, applying_, unstable_.offset(),
                          unstable_.entries().size());
}

}  // namespace raftkv::raft
