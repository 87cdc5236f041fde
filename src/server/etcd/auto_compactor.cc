#include "server/etcd/auto_compactor.h"

#include <algorithm>
#include <future>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "kv/errors.h"
#include "kv/store.h"

namespace raftkv::server::etcd {
namespace {

// etcd's Periodic: samples every tenth of the compaction interval, which is the retention up to
// an hour.
constexpr int kSamplesPerInterval = 10;
// A retention of a few nanoseconds would make the thread spin; etcd does, raftkv does not.
constexpr absl::Duration kMinSampleInterval = absl::Milliseconds(1);

absl::Status BadRetention(const std::string& retention, const char* why) {
  return absl::InvalidArgumentError(
      absl::StrCat("--auto-compaction-retention \"", retention, "\": ", why));
}

}  // namespace

absl::StatusOr<std::optional<AutoCompactionPolicy>> ParseAutoCompaction(const std::string& mode,
                                                                        std::string retention) {
  AutoCompactionPolicy policy;
  if (mode == "periodic") {
    policy.mode = AutoCompactionPolicy::Mode::kPeriodic;
  } else if (mode == "revision") {
    policy.mode = AutoCompactionPolicy::Mode::kRevision;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--auto-compaction-mode \"", mode, "\": unknown mode; use \"periodic\" or \"revision\""));
  }
  int64_t number = 0;
  if (retention.empty()) retention = "0";  // etcd's default
  if (absl::SimpleAtoi(retention, &number) && number >= 0) {
    if (number == 0) return std::nullopt;
    if (policy.mode == AutoCompactionPolicy::Mode::kRevision) {
      policy.revisions = number;
    } else {
      if (number > 24 * 365 * 1000) return BadRetention(retention, "too many hours");
      policy.retention = absl::Hours(number);
    }
    return policy;
  }
  if (policy.mode == AutoCompactionPolicy::Mode::kRevision) {
    return BadRetention(retention, "revision mode keeps a number of revisions, such as 1000");
  }
  absl::Duration duration;
  if (!absl::ParseDuration(retention, &duration) || duration == absl::InfiniteDuration()) {
    return BadRetention(retention, "not a number of hours nor a duration such as 30m or 1h30m");
  }
  if (duration < absl::ZeroDuration()) return BadRetention(retention, "negative");
  if (duration == absl::ZeroDuration()) return std::nullopt;
  policy.retention = duration;
  return policy;
}

AutoCompactor::AutoCompactor(Backend* backend, AutoCompactionPolicy policy, absl::Time start,
                             Log log, absl::Duration request_timeout)
    : backend_(backend), policy_(policy), log_(std::move(log)), request_timeout_(request_timeout) {
  if (policy_.mode == AutoCompactionPolicy::Mode::kRevision) {
    next_check_ = start + std::max(policy_.revision_check_interval, kMinSampleInterval);
    return;
  }
  compact_interval_ = std::min(policy_.retention, absl::Hours(1));
  sample_interval_ = std::max(compact_interval_ / kSamplesPerInterval, kMinSampleInterval);
  // The oldest kept sample is `retention` old: etcd's retentions = retention / sample + 1.
  samples_kept_ = static_cast<size_t>(policy_.retention / sample_interval_) + 1;
  base_interval_ = policy_.retention;
  last_success_ = start;
  samples_.push_back(CurrentRevision());
  next_check_ = start + sample_interval_;
}

absl::Time AutoCompactor::Check(absl::Time now) {
  if (now < next_check_) return next_check_;
  return policy_.mode == AutoCompactionPolicy::Mode::kRevision ? CheckRevision(now)
                                                               : CheckPeriodic(now);
}

absl::Time AutoCompactor::CheckPeriodic(absl::Time now) {
  next_check_ = now + sample_interval_;
  if (IsLeader() && now - last_success_ >= base_interval_) {
    // The first compaction waits the whole retention; later ones come every compact interval.
    base_interval_ = compact_interval_;
    const int64_t revision = samples_.front();
    if (Compact(revision)) last_success_ = now;
  }
  samples_.push_back(CurrentRevision());
  if (samples_.size() > samples_kept_) samples_.pop_front();
  return next_check_;
}

absl::Time AutoCompactor::CheckRevision(absl::Time now) {
  next_check_ = now + std::max(policy_.revision_check_interval, kMinSampleInterval);
  if (!IsLeader()) return next_check_;
  const int64_t revision = CurrentRevision() - policy_.revisions;
  if (revision <= 0 || revision == last_compacted_) return next_check_;
  if (Compact(revision)) last_compacted_ = revision;
  return next_check_;
}

bool AutoCompactor::IsLeader() {
  const NodeInfo info = backend_->Info();
  return info.leader_id != 0 && info.leader_id == info.member_id;
}

int64_t AutoCompactor::CurrentRevision() {
  int64_t revision = 0;
  backend_->Read([&](const kv::Store& store) { revision = store.revision(); });
  return revision;
}

bool AutoCompactor::Compact(int64_t revision) {
  if (log_) log_(absl::StrCat("starting auto-compaction at revision ", revision));
  kvpb::Request request;
  request.mutable_compaction()->set_revision(revision);
  auto answer = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> done = answer->get_future();
  backend_->Write(
      std::move(request), absl::Now() + request_timeout_,
      [answer](absl::StatusOr<kvpb::Response> result) { answer->set_value(result.status()); });
  // The backend answers by the deadline at the latest.
  const absl::Status status = done.get();
  if (status.ok() || status == kv::CompactedError()) {
    if (log_) log_(absl::StrCat("finished auto-compaction at revision ", revision));
    return true;
  }
  if (log_) {
    log_(absl::StrCat("auto-compaction at revision ", revision, " failed (", status.message(),
                      "); trying again at the next check"));
  }
  return false;
}

AutoCompactionThread::AutoCompactionThread(std::unique_ptr<AutoCompactor> compactor)
    : compactor_(std::move(compactor)), thread_([this] { Run(); }) {}

AutoCompactionThread::~AutoCompactionThread() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void AutoCompactionThread::Run() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    mu_.Unlock();
    const absl::Time next = compactor_->Check(absl::Now());
    mu_.Lock();
    mu_.AwaitWithDeadline(absl::Condition(&stopping_), next);
  }
}

}  // namespace raftkv::server::etcd
