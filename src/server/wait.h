// Where client calls wait for the replicated state machine.
//
// RequestWaiters: a write registers its request id and waits; the apply thread completes it with
// the store's answer when the entry carrying that id is applied (on whichever member proposed
// it). IndexWaiters: a linearizable read waits until the applied index reaches its read index
// (thesis §6.4, step 4).
//
// Both hand out shared promises: a caller that gives up (deadline) simply stops waiting, and a
// late completion is harmless.
//
// Thread-safety: thread-safe.
#pragma once

#include <cstdint>
#include <future>
#include <map>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "raftkv/kvpb/kv.pb.h"

namespace raftkv::server {

using WriteResult = absl::StatusOr<kvpb::Response>;

class RequestWaiters {
 public:
  std::future<WriteResult> Register(uint64_t id) {
    auto promise = std::make_shared<std::promise<WriteResult>>();
    std::future<WriteResult> future = promise->get_future();
    absl::MutexLock lock(&mu_);
    waiters_[id] = std::move(promise);
    return future;
  }
  // Completes and forgets the waiter for `id`, if any.
  void Complete(uint64_t id, WriteResult result) {
    std::shared_ptr<std::promise<WriteResult>> promise;
    {
      absl::MutexLock lock(&mu_);
      auto it = waiters_.find(id);
      if (it == waiters_.end()) return;
      promise = std::move(it->second);
      waiters_.erase(it);
    }
    promise->set_value(std::move(result));
  }
  void Forget(uint64_t id) {
    absl::MutexLock lock(&mu_);
    waiters_.erase(id);
  }
  // Completes every waiter with `status` (the node is stopping).
  void FailAll(const absl::Status& status) {
    absl::flat_hash_map<uint64_t, std::shared_ptr<std::promise<WriteResult>>> waiters;
    {
      absl::MutexLock lock(&mu_);
      waiters.swap(waiters_);
    }
    for (auto& [id, promise] : waiters) promise->set_value(status);
  }
  size_t size() const {
    absl::MutexLock lock(&mu_);
    return waiters_.size();
  }

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, std::shared_ptr<std::promise<WriteResult>>> waiters_
      ABSL_GUARDED_BY(mu_);
};

using StatusPromise = std::shared_ptr<std::promise<absl::Status>>;

class IndexWaiters {
 public:
  // Completes `promise` with OK once Applied(i) is called with i >= index (at once if it was).
  void Wait(uint64_t index, StatusPromise promise) {
    {
      absl::MutexLock lock(&mu_);
      if (index > applied_) {
        waiters_.emplace(index, std::move(promise));
        return;
      }
    }
    promise->set_value(absl::OkStatus());
  }
  void Applied(uint64_t index) {
    std::multimap<uint64_t, StatusPromise> done;
    {
      absl::MutexLock lock(&mu_);
      if (index > applied_) applied_ = index;
      auto end = waiters_.upper_bound(applied_);
      done.insert(waiters_.begin(), end);
      waiters_.erase(waiters_.begin(), end);
    }
    for (auto& [i, promise] : done) promise->set_value(absl::OkStatus());
  }
  void FailAll(const absl::Status& status) {
    std::multimap<uint64_t, StatusPromise> waiters;
    {
      absl::MutexLock lock(&mu_);
      waiters.swap(waiters_);
    }
    for (auto& [i, promise] : waiters) promise->set_value(status);
  }

 private:
  absl::Mutex mu_;
  uint64_t applied_ ABSL_GUARDED_BY(mu_) = 0;
  std::multimap<uint64_t, StatusPromise> waiters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace raftkv::server
