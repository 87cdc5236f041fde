// A few threads that serve reads which may be long (a range over many keys, a read-only txn)
// once their read index is confirmed.
//
// The read-index answer arrives on the node thread; serving a large range there would hold up
// the next pass of raft (heartbeats, appends, applies). Reads of one key are cheap and bounded
// and stay on the thread that has them; the others come here. Tasks queued together wake one
// worker, not one each.
//
// Thread-safety: thread-safe. The destructor runs every task still queued, then joins.
#pragma once

#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace raftkv::server::etcd {

class ReadExecutor {
 public:
  explicit ReadExecutor(int threads);
  ~ReadExecutor();
  ReadExecutor(const ReadExecutor&) = delete;
  ReadExecutor& operator=(const ReadExecutor&) = delete;

  void Run(absl::AnyInvocable<void()> task);

 private:
  void Work();

  absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace raftkv::server::etcd
