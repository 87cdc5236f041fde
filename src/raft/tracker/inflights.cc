#include "raft/tracker/inflights.h"

#include <algorithm>
#include <cassert>

namespace raftkv::raft::tracker {

Inflights::Inflights(size_t capacity, uint64_t max_bytes)
    : capacity_(capacity), max_bytes_(max_bytes) {
  // Plain asserts here: the window only limits how much the leader sends ahead (flow control).
  // A violation can stall or over-send replication to one follower, never lose or change an
  // entry, and Config::Validate already refuses a zero capacity.
  assert(capacity > 0);
}

void Inflights::Add(uint64_t index, uint64_t bytes) {
  assert(!Full() && "Add on a full inflight window");
  if (count_ > 0) {
    const Slot& last = buffer_[(start_ + count_ - 1) % buffer_.size()];
    assert(index > last.index && "inflight indexes must grow");
    (void)last;
  }
  if (count_ == buffer_.size()) {
    // Grow: re-lay the ring out flat, then double (bounded by capacity_).
    std::vector<Slot> grown;
    grown.reserve(std::min(capacity_, std::max<size_t>(1, buffer_.size() * 2)));
    for (size_t i = 0; i < count_; ++i) grown.push_back(buffer_[(start_ + i) % buffer_.size()]);
    grown.resize(grown.capacity());
    buffer_ = std::move(grown);
    start_ = 0;
  }
  buffer_[(start_ + count_) % buffer_.size()] = Slot{index, bytes};
  ++count_;
  bytes_ += bytes;
}

void Inflights::FreeLE(uint64_t to) {
  while (count_ > 0) {
    const Slot& slot = buffer_[start_];
    if (slot.index > to) break;
    bytes_ -= slot.bytes;
    start_ = (start_ + 1) % buffer_.size();
    --count_;
  }
  if (count_ == 0) start_ = 0;
}

bool Inflights::Full() const {
  return count_ >= capacity_ || (max_bytes_ != 0 && bytes_ >= max_bytes_);
}

void Inflights::Reset() {
  start_ = 0;
  count_ = 0;
  bytes_ = 0;
}

}  // namespace raftkv::raft::tracker
