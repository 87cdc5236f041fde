#include "server/etcd/read_executor.h"

#include <pthread.h>

#include <utility>

namespace raftkv::server::etcd {

ReadExecutor::ReadExecutor(int threads) {
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this] {
      // Named for profilers and top -H.
      pthread_setname_np(pthread_self(), "kv-read");
      Work();
    });
  }
}

ReadExecutor::~ReadExecutor() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

void ReadExecutor::Run(absl::AnyInvocable<void()> task) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(task));
}

void ReadExecutor::Work() {
  while (true) {
    absl::AnyInvocable<void()> task;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); };
      mu_.Await(absl::Condition(&ready));
      // Stop only once the queue is empty: every queued read finishes its call.
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

}  // namespace raftkv::server::etcd
