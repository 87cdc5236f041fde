// The outcome of a run, for people (a short summary) and for scripts (JSON with the same
// numbers). Latencies are in milliseconds in both; throughput counts successful requests.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "bench_options.h"
#include "load_runner.h"

namespace raftkv::bench {

// "OK", "UNAVAILABLE", ... as gRPC names its status codes.
const char* StatusCodeName(int code);

std::string HumanSummary(const BenchOptions& options, const RunResult& result);
std::string JsonReport(const BenchOptions& options, const RunResult& result);

}  // namespace raftkv::bench
