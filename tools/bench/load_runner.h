// Runs one benchmark: opens the gRPC channels, spreads the clients over a few worker threads
// (one completion queue each), and collects what they counted.
//
// Thread-safety: RunLoad() blocks the calling thread until the run is over; `on_progress` is
// called on that thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>

#include "absl/status/statusor.h"
#include "bench_options.h"
#include "latency_histogram.h"
#include "run_state.h"

namespace raftkv::bench {

struct RunResult {
  LatencyHistogram latency_ns;
  uint64_t successes = 0;
  std::array<uint64_t, kStatusCodeCount> errors_by_code{};
  uint64_t retries = 0;
  int worker_threads = 0;
  // From the first request to the last completion.
  double wall_s = 0;
  // The process's user + system CPU time over the same span (getrusage(RUSAGE_SELF)).
  double cpu_s = 0;

  uint64_t errors() const;
  uint64_t requests() const { return successes + errors(); }
};

// Called about every 200 ms with the requests completed so far and the seconds since start.
using ProgressCallback = std::function<void(uint64_t completed, double elapsed_s)>;

// Fails only when the run cannot start (an endpoint does not accept a connection within a few
// seconds); failed requests are counted in the result.
// REQUIRES: ValidateOptions(&options) succeeded.
absl::StatusOr<RunResult> RunLoad(const BenchOptions& options,
                                  const ProgressCallback& on_progress);

// How many worker threads (completion queues) a run uses: one per connection, at most one per
// core and at most kMaxWorkerThreads, since the server usually shares the machine.
int WorkerThreadCount(int conns);
inline constexpr int kMaxWorkerThreads = 4;

}  // namespace raftkv::bench
