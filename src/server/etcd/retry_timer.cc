#include "server/etcd/retry_timer.h"

#include <pthread.h>

#include <vector>

namespace raftkv::server::etcd {

RetryTimer::RetryTimer(size_t max_pending) : max_pending_(max_pending) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "raft-retry");
    Run();
  });
}

RetryTimer::~RetryTimer() {
  {
    absl::MutexLock lock(&mu_);
    quitting_ = true;
  }
  thread_.join();
  // Nothing can be scheduled any more; answer whoever still waits.
  std::map<std::pair<absl::Time, uint64_t>, Fn> left;
  {
    absl::MutexLock lock(&mu_);
    left.swap(pending_);
  }
  for (auto& [when, fn] : left) fn(false);
}

bool RetryTimer::Schedule(absl::Time when, Fn&& fn) {
  absl::MutexLock lock(&mu_);
  if (quitting_ || pending_.size() >= max_pending_) return false;
  pending_.emplace(std::make_pair(when, next_sequence_++), std::move(fn));
  return true;
}

void RetryTimer::Run() {
  while (true) {
    std::vector<Fn> due;
    {
      absl::MutexLock lock(&mu_);
      auto earliest = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return pending_.empty() ? absl::InfiniteFuture() : pending_.begin()->first.first;
      };
      // Sleeps until the earliest entry is due, or until Schedule adds an earlier one.
      const absl::Time wake_at = earliest();
      auto woken = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return quitting_ || earliest() != wake_at || wake_at <= absl::Now();
      };
      mu_.AwaitWithDeadline(absl::Condition(&woken), wake_at);
      if (quitting_) return;
      const absl::Time now = absl::Now();
      while (!pending_.empty() && pending_.begin()->first.first <= now) {
        due.push_back(std::move(pending_.begin()->second));
        pending_.erase(pending_.begin());
      }
    }
    for (Fn& fn : due) fn(true);
  }
}

}  // namespace raftkv::server::etcd
