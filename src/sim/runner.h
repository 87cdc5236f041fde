// Named simulation scenarios and the runner that executes one (scenario, seed) pair from
// start to verdict: build the cluster, drive it, quiesce it, check the client history, and
// describe any violation with the seed, the property and the events that led to it.
//
// A run is a pure function of (scenario, seed, overrides); RunResult::trace_hash proves it.
// Thread-compatible: separate runs share nothing.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "sim/cluster.h"
#include "sim/safety_checker.h"

namespace raftkv::sim {

struct RunOverrides {
  int nodes = 0;  // 0: the scenario's choice (for "mixed", drawn from the seed: 3, 5 or 7)
  int steps = 0;  // nemesis steps for randomized scenarios; 0: the scenario's default
  // Where nodes keep their log; kDurable runs the real WAL and its recovery under crashes.
  StorageKind storage = StorageKind::kMemory;
  // Where nodes keep their key-value state; kRocksDb runs the RocksDB engine in a temporary
  // directory that the run removes at its end.
  EngineKind engine = EngineKind::kMemory;
  bool keep_history = false;        // keep the client history in the result
  std::FILE* trace_sink = nullptr;  // print every trace event here as it happens
};

struct RunResult {
  std::string scenario;
  uint64_t seed = 0;
  int nodes = 0;
  StorageKind storage = StorageKind::kMemory;
  EngineKind engine = EngineKind::kMemory;
  bool ok = true;
  std::optional<Violation> violation;
  uint64_t trace_hash = 0;
  uint64_t trace_events = 0;
  TimeUs virtual_time_us = 0;
  NetworkStats network;
  WorkloadStats workload;
  uint64_t leader_terms = 0;
  uint64_t committed_index = 0;
  // Runs with leases and watches (mixed_leases): what they exercised.
  struct LeaseWatchStats {
    LeaseClientStats clients;
    uint64_t expiry_revokes_checked = 0;
    uint64_t watch_events = 0;
    uint64_t watch_compaction_restarts = 0;
  };
  std::optional<LeaseWatchStats> leases;
  std::string recent_events;  // a readable trace of the relevant recent events, on failure
  lincheck::History history;  // when RunOverrides::keep_history

  // "seed 42 (mixed, 5 nodes): ok, hash 0123..." or the full failure report.
  std::string Describe() const;
  // How to replay this run with the command-line runner.
  std::string ReplayCommand() const;
  // ", durable", ", rocksdb": the non-default storage and engine, for Describe.
  std::string Kinds() const;
};

struct ScenarioInfo {
  std::string name;
  std::string description;
};

// Checks a client history of the key-value workload for linearizability; a violation names the
// smallest failing key and the operations that could not be ordered.
std::optional<Violation> CheckLinearizable(const lincheck::History& history);

std::vector<ScenarioInfo> Scenarios();
bool IsScenario(const std::string& name);

RunResult RunScenario(const std::string& name, uint64_t seed, const RunOverrides& overrides = {});

}  // namespace raftkv::sim
