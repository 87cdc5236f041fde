// raftkv-bench: a load generator for etcd's v3 gRPC API (raftkv or etcd itself).
//
//   raftkv-bench put     [--total N | --duration S] [--clients C] [--conns K] ...
//   raftkv-bench range   [--consistency l|s] ...
//   raftkv-bench txn-put ...
//   raftkv-bench mix     [--read-ratio R] [--consistency l|s] ...
//
// Prints a summary (and, with --json, a machine-readable report). Exit status: 0 when the run
// finished, whether or not requests failed (they are counted by status); 1 when it could not
// start or the report could not be written; CLI11's codes for bad flags.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <optional>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "bench_options.h"
#include "load_runner.h"
#include "progress_bar.h"
#include "report.h"

int main(int argc, char** argv) {
  using namespace raftkv::bench;
  // gRPC's mutexes are absl::Mutex, and Debian's absl tracks every lock for deadlock detection;
  // that bookkeeping would count as the tool's own CPU per request.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{"raftkv-bench: load generator for etcd's v3 API"};
  BenchOptions options;
  DeclareFlags(app, &options);
  CLI11_PARSE(app, argc, argv);
  if (absl::Status valid = ValidateOptions(&options); !valid.ok()) {
    std::fprintf(stderr, "raftkv-bench: %s\n", std::string(valid.message()).c_str());
    return 2;
  }

  const bool json_to_stdout = options.json_path == "-";
  std::optional<ProgressBar> progress;
  if (!options.no_progress && !json_to_stdout && ::isatty(STDOUT_FILENO)) {
    progress.emplace(stdout, options.total, options.duration_s);
  }
  absl::StatusOr<RunResult> result =
      RunLoad(options, progress ? ProgressCallback([&](uint64_t completed, double elapsed_s) {
        progress->Update(completed, elapsed_s);
      })
                                : ProgressCallback());
  if (progress) progress->Finish();
  if (!result.ok()) {
    std::fprintf(stderr, "raftkv-bench: %s\n", std::string(result.status().message()).c_str());
    return 1;
  }

  // With the JSON on stdout, the summary moves to stderr so that stdout stays parseable.
  std::fputs(HumanSummary(options, *result).c_str(), json_to_stdout ? stderr : stdout);
  if (options.json_path.empty()) return 0;
  const std::string json = JsonReport(options, *result);
  if (json_to_stdout) {
    std::fputs(json.c_str(), stdout);
    return 0;
  }
  std::ofstream file(options.json_path, std::ios::trunc);
  file << json;
  file.close();
  if (!file) {
    std::fprintf(stderr, "raftkv-bench: cannot write %s\n", options.json_path.c_str());
    return 1;
  }
  return 0;
}
