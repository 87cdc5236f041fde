#include "server/etcd/watch_hub.h"

#include <pthread.h>

#include <utility>
#include <vector>

#include "kv/store.h"
#include "server/etcd/grpc_status.h"
#include "server/etcd/watch_stream.h"

namespace raftkv::server::etcd {

WatchHub::WatchHub(Backend* backend, WatchOptions options)
    : backend_(backend), options_(std::move(options)) {
  listening_ = backend_->SetStoreListener([this] { Wake(); });
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "raft-watch");
    Run();
  });
}

WatchHub::~WatchHub() {
  // After this returns the listener is not running, so the applying thread no longer touches
  // the hub.
  if (listening_) backend_->SetStoreListener({});
  {
    absl::MutexLock lock(&mu_);
    quitting_ = true;
  }
  thread_.join();
  // Calls still waiting (the server was shut down around them) are ended.
  RunWaiters(0, /*stopped=*/true);
}

bool WatchHub::Add(std::shared_ptr<WatchStream> stream) {
  absl::MutexLock lock(&mu_);
  if (stopped_ || quitting_) return false;
  const WatchStream* key = stream.get();
  streams_.emplace(key, std::move(stream));
  return true;
}

void WatchHub::Remove(const WatchStream* stream) {
  std::shared_ptr<WatchStream> last;  // released outside the lock
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(stream);
  if (it == streams_.end()) return;
  last = std::move(it->second);
  streams_.erase(it);
}

bool WatchHub::AddWaiter(std::shared_ptr<StoreWaiter> waiter) {
  absl::MutexLock lock(&mu_);
  if (stopped_ || quitting_ || waiters_.size() >= options_.max_store_waiters) return false;
  const StoreWaiter* key = waiter.get();
  waiters_.emplace(key, Waiting{.waiter = std::move(waiter)});
  wake_ = true;
  return true;
}

void WatchHub::RemoveWaiter(const StoreWaiter* waiter) {
  std::shared_ptr<StoreWaiter> last;  // released outside the lock
  absl::MutexLock lock(&mu_);
  auto it = waiters_.find(waiter);
  if (it == waiters_.end()) return;
  last = std::move(it->second.waiter);
  waiters_.erase(it);
}

void WatchHub::RunWaiters(int64_t revision, bool stopped) {
  std::vector<std::shared_ptr<StoreWaiter>> due;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [key, waiting] : waiters_) {
      if (!stopped && waiting.seen == revision) continue;
      waiting.seen = revision;
      due.push_back(waiting.waiter);
    }
  }
  for (const std::shared_ptr<StoreWaiter>& waiter : due) {
    if (!waiter->OnStoreChange(stopped) || stopped) RemoveWaiter(waiter.get());
  }
}

void WatchHub::Wake() {
  absl::MutexLock lock(&mu_);
  wake_ = true;
}

void WatchHub::Run() {
  absl::Time next_progress = absl::Now() + options_.progress_interval;
  while (true) {
    std::vector<std::shared_ptr<WatchStream>> streams;
    {
      absl::MutexLock lock(&mu_);
      auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return wake_ || quitting_; };
      absl::Time wake_at = next_progress;
      if (!listening_) wake_at = std::min(wake_at, absl::Now() + options_.poll_interval);
      mu_.AwaitWithDeadline(absl::Condition(&has_work), wake_at);
      if (quitting_) return;
      wake_ = false;
      if (!stopped_ && backend_->Stopped()) stopped_ = true;
      streams.reserve(streams_.size());
      for (auto& [key, stream] : streams_) streams.push_back(stream);
    }
    if (backend_->Stopped()) {
      for (auto& stream : streams) {
        stream->End(ToGrpcStatus(StoppedError()));
        stream->Pump();
      }
      RunWaiters(0, /*stopped=*/true);
      continue;
    }
    const absl::Time now = absl::Now();
    const bool progress_due = now >= next_progress;
    if (progress_due) next_progress = now + options_.progress_interval;

    int64_t revision = 0;
    backend_->Read([&](const kv::Store& store) { revision = store.revision(); });
    bool more = false;
    for (auto& stream : streams) {
      if (!stream->NeedsCatchUp(revision, progress_due)) continue;
      backend_->Read([&](const kv::Store& store) { more |= stream->CatchUp(store, progress_due); });
      stream->Pump();
    }
    RunWaiters(revision, /*stopped=*/false);
    if (more) Wake();
  }
}

}  // namespace raftkv::server::etcd
