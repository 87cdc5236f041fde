// A bounded queue of raft messages waiting to be sent to one peer.
//
// Bounded on purpose: when a peer is slow or gone, messages are dropped rather than piling up
// without limit. Dropping is safe because raft retransmits (§5.3): a lost append is resent
// after the follower is probed again, a lost heartbeat is replaced by the next one.
//
// Thread-safety: thread-safe; typically many producers and one consumer (the sender thread).
#pragma once

#include <cstddef>
#include <deque>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "raftkv/raftpb/raft.pb.h"

namespace raftkv::transport {

class MessageQueue {
 public:
  explicit MessageQueue(size_t capacity_messages) : capacity_messages_(capacity_messages) {}

  // Appends a message; false (and the message is dropped) when the queue is full or closed.
  bool Push(raftpb::Message message);

  // Waits up to `timeout` for at least one message, then takes messages in order while their
  // encoded size stays within max_batch_bytes (always at least one). Empty on timeout or
  // once closed.
  std::vector<raftpb::Message> PopBatch(size_t max_batch_bytes, absl::Duration timeout);

  // Drops everything queued; returns how many messages were dropped.
  size_t Clear();

  // Wakes the consumer; later pushes fail.
  void Close();

  size_t size() const;

 private:
  const size_t capacity_messages_;
  mutable absl::Mutex mu_;
  std::deque<raftpb::Message> queue_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace raftkv::transport
