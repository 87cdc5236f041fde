// What the threads of one benchmark run share (RunControl: when to stop, the sequential-key
// counter) and what each worker thread counts on its own (WorkerStats).
//
// Thread-safety: RunControl is shared; its counters are atomic and the rest is fixed before
// the threads start. WorkerStats is written by its one worker thread; only `completed` is read
// by another thread (the progress display) while the run is going.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

#include "latency_histogram.h"

namespace raftkv::bench {

using Clock = std::chrono::steady_clock;

class RunControl {
 public:
  // total > 0: stop after that many requests; otherwise stop issuing at the deadline.
  explicit RunControl(uint64_t total) : total_(total) {}

  // REQUIRES: called before the worker threads start (they read it without a lock).
  void set_deadline(Clock::time_point deadline) { deadline_ = deadline; }

  // Whether a client may issue one more request at time `now`; counts it if so.
  bool TakeRequest(Clock::time_point now) {
    if (total_ > 0) return issued_.fetch_add(1, std::memory_order_relaxed) < total_;
    return now < deadline_;
  }

  std::atomic<uint64_t>* key_sequence() { return &key_sequence_; }

 private:
  const uint64_t total_;
  Clock::time_point deadline_ = Clock::time_point::max();
  std::atomic<uint64_t> issued_{0};
  std::atomic<uint64_t> key_sequence_{0};
};

// gRPC status codes run from OK (0) to UNAUTHENTICATED (16).
inline constexpr int kStatusCodeCount = 17;

struct WorkerStats {
  LatencyHistogram latency_ns;  // successful requests only
  uint64_t successes = 0;
  std::array<uint64_t, kStatusCodeCount> errors_by_code{};
  // Writes sent again with the same session sequence after UNAVAILABLE or DEADLINE_EXCEEDED
  // (each request is counted once, with its final outcome).
  uint64_t retries = 0;
  // successes + errors, published for the progress display. Its own cache line, so that the
  // display's reads do not slow the workers' writes to their neighbours.
  alignas(64) std::atomic<uint64_t> completed{0};
};

}  // namespace raftkv::bench
