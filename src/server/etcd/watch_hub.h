// The watch thread: the one thread that moves every watch stream's watchers forward.
//
// The backend's store listener (called by the applying thread after each pass that applied
// entries) only sets a flag and signals; the node thread never waits for a watcher. The watch
// thread wakes on that signal, on a stream's request (a new watcher, a progress request, room
// freed by a completed write), at the progress interval, or at the poll interval for a backend
// that cannot announce changes. Per wake it reads the store revision once, then for each stream
// that is behind takes the store's reader lock for one bounded CatchUp (at most
// max_pages_per_pass pages), releases it, and starts the stream's next gRPC write.
//
// The same thread serves the other calls that wait for the store (StoreWaiter: Lock, Campaign,
// Observe): after each wake it calls every waiter whose last call saw an older revision.
//
// When the backend stops, every stream (and every stream created later) is ended with
// "etcdserver: server stopped" (UNAVAILABLE), which clientv3 answers by resuming its watches on
// another endpoint from the last revision it received.
//
// Thread-safety: thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/etcd/backend.h"
#include "server/etcd/store_waiter.h"
#include "server/etcd/watch_options.h"

namespace raftkv::server::etcd {

class WatchStream;

class WatchHub {
 public:
  // `backend` must outlive the hub. Starts the watch thread and installs the store listener.
  WatchHub(Backend* backend, WatchOptions options);
  // Removes the listener and joins the thread. REQUIRES: every stream is done (the gRPC server
  // was shut down first).
  ~WatchHub();
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // Registers a new stream; false when the backend has stopped (the caller ends the stream).
  bool Add(std::shared_ptr<WatchStream> stream);
  void Remove(const WatchStream* stream);
  // Some stream has work for the watch thread.
  void Wake();

  // Registers `waiter`, which is called soon on the watch thread. False when the backend has
  // stopped or `max_waiters` already wait (the caller answers the call itself).
  bool AddWaiter(std::shared_ptr<StoreWaiter> waiter);
  // Drops `waiter`; it may still be running, or be called once more, concurrently.
  void RemoveWaiter(const StoreWaiter* waiter);

 private:
  void Run();
  // Calls the waiters that have not seen `revision` yet (all of them, with `stopped`, once the
  // backend stopped).
  void RunWaiters(int64_t revision, bool stopped);

  struct Waiting {
    std::shared_ptr<StoreWaiter> waiter;
    // The store revision at its last call; -1 before the first.
    int64_t seen = -1;
  };

  Backend* const backend_;
  const WatchOptions options_;
  bool listening_ = false;

  absl::Mutex mu_;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  bool quitting_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::map<const WatchStream*, std::shared_ptr<WatchStream>> streams_ ABSL_GUARDED_BY(mu_);
  std::map<const StoreWaiter*, Waiting> waiters_ ABSL_GUARDED_BY(mu_);

  std::thread thread_;
};

}  // namespace raftkv::server::etcd
