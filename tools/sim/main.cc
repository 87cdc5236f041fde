// raftkv-sim: runs deterministic cluster simulations.
//
//   raftkv-sim --seed S [--scenario NAME] [--nodes N] [--steps K] [--storage memory|durable]
//              [--engine memory|rocksdb] [--history FILE]
//   raftkv-sim --seeds N [--first-seed S] [--scenario NAME] [--storage memory|durable]
//              [--engine memory|rocksdb] [--keep-going]
//   raftkv-sim --list
//
// One seed determines a whole run; replaying it prints the same trace hash. A violation prints
// the seed, the property, and the recent events that led to it. Exit status: 0 when every run
// passed, 1 when any run found a violation, 2 on bad usage.
#include <chrono>
#include <cstdio>
#include <string>

#include "CLI/CLI.hpp"
#include "fmt/core.h"
#include "lincheck/raftkv_format.h"
#include "sim/runner.h"

namespace {

int Run(int argc, char** argv) {
  CLI::App app{"Deterministic Raft cluster simulator with safety and linearizability checks."};
  uint64_t seed = 0;
  uint64_t seeds = 0;
  uint64_t first_seed = 1;
  std::string scenario = "mixed";
  int nodes = 0;
  int steps = 0;
  bool list = false;
  bool keep_going = false;
  bool quiet = false;
  bool trace = false;
  std::string history_path;
  std::string storage = "memory";
  std::string engine = "memory";
  auto* seed_option = app.add_option("--seed", seed, "Run this one seed and print its trace hash");
  app.add_option("--seeds", seeds, "Sweep this many seeds")->excludes(seed_option);
  app.add_option("--first-seed", first_seed, "First seed of a sweep")->capture_default_str();
  app.add_option("--scenario", scenario, "Scenario to run (see --list)")->capture_default_str();
  app.add_option("--nodes", nodes, "Cluster size (3, 5 or 7); default: the scenario's choice")
      ->check(CLI::IsMember({3, 5, 7}));
  app.add_option("--steps", steps, "Fault steps of randomized scenarios; default: theirs")
      ->check(CLI::PositiveNumber);
  app.add_option("--storage", storage,
                 "Node storage: memory, or durable (the real WAL on a crashable in-memory disk)")
      ->check(CLI::IsMember({"memory", "durable"}))
      ->capture_default_str();
  app.add_option("--engine", engine,
                 "Key-value engine: memory, or rocksdb (on disk in a temporary directory, "
                 "surviving crashes)")
      ->check(CLI::IsMember({"memory", "rocksdb"}))
      ->capture_default_str();
  app.add_option("--history", history_path, "With --seed: write the client history here");
  app.add_flag("--list", list, "List the scenarios");
  app.add_flag("--trace", trace, "With --seed: print every event as it happens");
  app.add_flag("--keep-going", keep_going, "In a sweep, continue after a violation");
  app.add_flag("--quiet", quiet, "In a sweep, print only violations and the summary");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (list) {
    for (const auto& info : raftkv::sim::Scenarios()) {
      fmt::print("{:28} {}\n", info.name, info.description);
    }
    return 0;
  }
  if (!raftkv::sim::IsScenario(scenario)) {
    fmt::print(stderr, "raftkv-sim: no scenario named '{}' (try --list)\n", scenario);
    return 2;
  }
  raftkv::sim::RunOverrides overrides{.nodes = nodes,
                                      .steps = steps,
                                      .storage = storage == "durable"
                                                     ? raftkv::sim::StorageKind::kDurable
                                                     : raftkv::sim::StorageKind::kMemory,
                                      .engine = engine == "rocksdb"
                                                    ? raftkv::sim::EngineKind::kRocksDb
                                                    : raftkv::sim::EngineKind::kMemory};

  if (seeds == 0) {
    if (seed_option->count() == 0) {
      fmt::print(stderr, "raftkv-sim: give --seed S or --seeds N (or --list)\n");
      return 2;
    }
    overrides.keep_history = !history_path.empty();
    if (trace) overrides.trace_sink = stdout;
    const raftkv::sim::RunResult result = raftkv::sim::RunScenario(scenario, seed, overrides);
    fmt::print("{}\n", result.Describe());
    fmt::print("trace hash: {:016x}\n", result.trace_hash);
    if (!history_path.empty()) {
      const absl::Status s = raftkv::lincheck::WriteRaftkvHistoryFile(result.history, history_path);
      if (!s.ok()) {
        fmt::print(stderr, "raftkv-sim: {}\n", std::string(s.message()));
        return 2;
      }
    }
    return result.ok ? 0 : 1;
  }

  // The wall clock only measures the sweep for the report; runs never see it.
  const auto start = std::chrono::steady_clock::now();
  uint64_t failures = 0;
  uint64_t run = 0;
  for (uint64_t s = first_seed; s < first_seed + seeds; ++s) {
    const raftkv::sim::RunResult result = raftkv::sim::RunScenario(scenario, s, overrides);
    ++run;
    if (!result.ok) {
      ++failures;
      fmt::print("{}\n", result.Describe());
      std::fflush(stdout);
      if (!keep_going) break;
    } else if (!quiet) {
      fmt::print("{}\n", result.Describe());
    }
    if (quiet && run % 1000 == 0) {
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      fmt::print("... {} seeds, {} violations, {:.0f} s\n", run, failures, elapsed);
      std::fflush(stdout);
    }
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("{} seeds of '{}' from {}: {} violations in {:.1f} s ({:.1f} ms per seed)\n", run,
             scenario, first_seed, failures, elapsed, run > 0 ? 1000 * elapsed / run : 0.0);
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
