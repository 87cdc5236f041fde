// Inflights: the window of append messages sent to one follower and not yet acknowledged.
//
// It bounds how far the leader pipelines appends (flow control): at most `capacity` messages
// and, when max_bytes is non-zero, at most max_bytes of entry payload. Each message is
// recorded by the index of its last entry, so an acknowledgement up to index i frees every
// message ending at or before i. Thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace raftkv::raft::tracker {

class Inflights {
 public:
  // REQUIRES: capacity > 0. max_bytes == 0 means no byte limit.
  explicit Inflights(size_t capacity, uint64_t max_bytes = 0);

  // Records a message whose last entry is `index` and whose entries weigh `bytes`.
  // REQUIRES: !Full(), and index greater than every index already recorded.
  void Add(uint64_t index, uint64_t bytes);

  // Frees every message whose last index is <= to (the follower acknowledged up to `to`).
  void FreeLE(uint64_t to);

  // True when no more messages may be sent: the count or the byte budget is exhausted.
  bool Full() const;

  size_t Count() const { return count_; }
  uint64_t Bytes() const { return bytes_; }
  size_t capacity() const { return capacity_; }
  void Reset();

 private:
  struct Slot {
    uint64_t index = 0;
    uint64_t bytes = 0;
  };

  size_t capacity_;
  uint64_t max_bytes_;
  // Ring buffer, grown lazily up to capacity_ so idle followers cost little memory.
  std::vector<Slot> buffer_;
  size_t start_ = 0;
  size_t count_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace raftkv::raft::tracker
