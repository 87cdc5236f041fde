// etcd 3.4's automatic compaction (--auto-compaction-mode, --auto-compaction-retention;
// etcdserver/api/v3compactor), issued by the leader as an ordinary replicated Compaction
// request through the Backend, the same path as a client's Compact.
//
//   periodic, retention R (a duration; a bare number is hours): the revision is sampled every
//     min(R, 1h)/10; the first compaction comes R after start, to the revision sampled R ago,
//     and later ones every min(R, 1h), each to the oldest sample (the revision about R ago).
//   revision, retention N: every 5 minutes, compacts to (current revision - N), unless that is
//     not positive or was already compacted to.
//
// Only the leader compacts (etcd pauses the compactor on followers); a periodic compactor keeps
// sampling meanwhile, so a new leader compacts by its own samples. A compaction that fails is
// tried again at the next check; "required revision has been compacted" counts as done.
//
// AutoCompactor is the policy with no thread and no clock of its own: time arrives as the
// `now` of Check, so tests drive hours in microseconds. AutoCompactionThread runs one against
// the real clock.
//
// Thread-safety: AutoCompactor is thread-compatible; AutoCompactionThread is thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/etcd/backend.h"

namespace raftkv::server::etcd {

struct AutoCompactionPolicy {
  enum class Mode { kPeriodic, kRevision };
  Mode mode = Mode::kPeriodic;
  // Periodic: how much history to keep.
  absl::Duration retention = absl::Hours(1);
  // Revision: how many revisions to keep.
  int64_t revisions = 0;
  // Revision: how often to check (etcd: 5 minutes; shorter only for tests).
  absl::Duration revision_check_interval = absl::Minutes(5);
};

// etcd's reading of the two flags (embed/etcd.go parseCompactionRetention): a bare integer is
// hours in periodic mode and revisions in revision mode; anything else is a Go duration, which
// only periodic mode takes. nullopt when compaction is off (retention 0). InvalidArgument
// naming the flag for an unknown mode, a negative or malformed retention.
absl::StatusOr<std::optional<AutoCompactionPolicy>> ParseAutoCompaction(const std::string& mode,
                                                                        std::string retention);

class AutoCompactor {
 public:
  // Plain-text lines about what it did, for the server's log; may be empty.
  using Log = std::function<void(const std::string&)>;

  // `backend` is not owned and must outlive the compactor. `start` is the time of the first
  // sample (periodic) and the origin of every interval.
  AutoCompactor(Backend* backend, AutoCompactionPolicy policy, absl::Time start, Log log = {},
                absl::Duration request_timeout = absl::Seconds(5));

  // Does whatever is due at `now` (sampling, compacting) and returns when to call again.
  // Compacting waits for the compaction to be applied (or fail) on this member.
  absl::Time Check(absl::Time now);

 private:
  absl::Time CheckPeriodic(absl::Time now);
  absl::Time CheckRevision(absl::Time now);
  bool IsLeader();
  int64_t CurrentRevision();
  // True when the store is compacted at `revision` (now or before).
  bool Compact(int64_t revision);

  Backend* const backend_;
  const AutoCompactionPolicy policy_;
  const Log log_;
  const absl::Duration request_timeout_;
  absl::Time next_check_;

  // Periodic (etcd's Periodic): sample interval, compaction interval, samples kept.
  absl::Duration sample_interval_;
  absl::Duration compact_interval_;
  size_t samples_kept_ = 0;
  std::deque<int64_t> samples_;  // front: the revision about `retention` ago
  absl::Time last_success_;
  // How long after the last success the next compaction is due: the retention at first, then
  // compact_interval_ (etcd's baseInterval).
  absl::Duration base_interval_;

  // Revision: the revision last compacted to.
  int64_t last_compacted_ = 0;
};

// Runs an AutoCompactor on its own thread against the real clock, until destroyed.
class AutoCompactionThread {
 public:
  explicit AutoCompactionThread(std::unique_ptr<AutoCompactor> compactor);
  // Stops and joins the thread (after a compaction in flight is answered).
  ~AutoCompactionThread();
  AutoCompactionThread(const AutoCompactionThread&) = delete;
  AutoCompactionThread& operator=(const AutoCompactionThread&) = delete;

 private:
  void Run();

  std::unique_ptr<AutoCompactor> compactor_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace raftkv::server::etcd
