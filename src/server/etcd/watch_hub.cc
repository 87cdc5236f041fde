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
    if (more) Wake();
  }
}

}  // namespace raftkv::server::etcd
