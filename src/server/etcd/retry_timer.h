// One thread that runs short functions at given times: the waits between attempts of a call
// forwarded to the leader, so that no gRPC or node thread ever sleeps.
//
// At most `max_pending` functions wait at once; Schedule refuses more (the caller answers "too
// many requests"). On destruction every waiting function runs at once, in time order, with
// `on_time` false, so a call waiting for its next attempt is still answered.
//
// Thread-safety: thread-safe. Functions run on the timer's thread (or on the destroying
// thread), one at a time, and must not block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace raftkv::server::etcd {

class RetryTimer {
 public:
  // `on_time` is false when the timer is being destroyed.
  using Fn = absl::AnyInvocable<void(bool on_time)>;

  explicit RetryTimer(size_t max_pending = 100000);
  ~RetryTimer();
  RetryTimer(const RetryTimer&) = delete;
  RetryTimer& operator=(const RetryTimer&) = delete;

  // Runs `fn` at `when` (at once if that has passed). False when `max_pending` functions
  // already wait or the timer is being destroyed; `fn` is then left with the caller, unrun.
  bool Schedule(absl::Time when, Fn&& fn);

 private:
  void Run();

  const size_t max_pending_;
  absl::Mutex mu_;
  // Keyed by (time, sequence) so equal times keep their order.
  std::map<std::pair<absl::Time, uint64_t>, Fn> pending_ ABSL_GUARDED_BY(mu_);
  uint64_t next_sequence_ ABSL_GUARDED_BY(mu_) = 0;
  bool quitting_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace raftkv::server::etcd
