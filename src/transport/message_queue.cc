#include "transport/message_queue.h"

#include <utility>

namespace raftkv::transport {

bool MessageQueue::Push(raftpb::Message message) {
  absl::MutexLock lock(&mu_);
  if (closed_ || queue_.size() >= capacity_messages_) return false;
  queue_.push_back(std::move(message));
  return true;
}

std::vector<raftpb::Message> MessageQueue::PopBatch(size_t max_batch_bytes,
                                                    absl::Duration timeout) {
  std::vector<raftpb::Message> batch;
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return closed_ || !queue_.empty(); };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  if (closed_) return batch;
  size_t batch_bytes = 0;
  while (!queue_.empty()) {
    size_t size = queue_.front().ByteSizeLong();
    if (!batch.empty() && batch_bytes + size > max_batch_bytes) break;
    batch_bytes += size;
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return batch;
}

size_t MessageQueue::Clear() {
  absl::MutexLock lock(&mu_);
  size_t n = queue_.size();
  queue_.clear();
  return n;
}

void MessageQueue::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
  queue_.clear();
}

size_t MessageQueue::size() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

}  // namespace raftkv::transport
