#include "sim/runner.h"

#include <optional>

#include "fmt/format.h"
#include "io/scratch_directory.h"
#include "lincheck/checker.h"
#include "lincheck/model.h"
#include "sim/scenarios.h"

namespace raftkv::sim {
namespace {

constexpr TimeUs kQuiesceTimeoutUs = 20'000'000;

const Scenario* Find(const std::string& name) {
  for (const Scenario& s : ScenarioTable()) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

}  // namespace

std::optional<Violation> CheckLinearizable(const lincheck::History& history) {
  const auto model = lincheck::NewKvModel();
  const lincheck::CheckResult result = lincheck::CheckHistory(*model, history);
  if (result.verdict != lincheck::Verdict::kNotLinearizable || !result.failure.has_value()) {
    return std::nullopt;
  }
  return Violation{kLinearizability, lincheck::FormatFailure(*model, history, *result.failure), {}};
}

std::vector<ScenarioInfo> Scenarios() {
  std::vector<ScenarioInfo> out;
  for (const Scenario& s : ScenarioTable()) out.push_back({s.name, s.description});
  return out;
}

bool IsScenario(const std::string& name) { return Find(name) != nullptr; }

std::string RunResult::ReplayCommand() const {
  std::string command = fmt::format("raftkv-sim --scenario {} --seed {}", scenario, seed);
  if (nodes != 0) command += fmt::format(" --nodes {}", nodes);
  if (storage == StorageKind::kDurable) command += " --storage durable";
  if (engine == EngineKind::kRocksDb) command += " --engine rocksdb";
  return command;
}

std::string RunResult::Kinds() const {
  std::string kinds;
  if (storage == StorageKind::kDurable) kinds += ", durable";
  if (engine == EngineKind::kRocksDb) kinds += ", rocksdb";
  return kinds;
}

std::string RunResult::Describe() const {
  if (ok) {
    std::string lease_part;
    if (leases.has_value()) {
      lease_part = fmt::format(
          "; leases: {} granted, {} renewed, {} revoked by clients, {} expiry revokes checked, "
          "{} found gone, {} compactions; watch: {} events, {} compaction restarts",
          leases->clients.granted, leases->clients.renewed, leases->clients.revoked,
          leases->expiry_revokes_checked, leases->clients.expired_seen, leases->clients.compactions,
          leases->watch_events,
          leases->watch_compaction_restarts);
    }
    return fmt::format(
        "seed {} ({}, {} nodes{}): ok, trace hash {:016x}, {} events, {:.1f} s "
        "virtual, {} ops ({} ok, {} failed, {} unknown), {} leader terms, "
        "commit {}{}",
        seed, scenario, nodes, Kinds(), trace_hash,
        trace_events, static_cast<double>(virtual_time_us) / 1e6, workload.invoked, workload.ok,
        workload.failed, workload.unknown, leader_terms, committed_index, lease_part);
  }
  return fmt::format(
      "VIOLATION of {} — seed {} ({}, {} nodes{}) at {:.6f} s virtual\n"
      "  {}\n"
      "replay: {}\n"
      "trace hash {:016x}; recent events involving nodes [{}]:\n{}",
      violation->property, seed, scenario, nodes, Kinds(),
      static_cast<double>(virtual_time_us) / 1e6, violation->detail, ReplayCommand(), trace_hash,
      fmt::join(violation->nodes, ","), recent_events);
}

RunResult RunScenario(const std::string& name, uint64_t seed, const RunOverrides& overrides) {
  RunResult result;
  result.scenario = name;
  result.seed = seed;
  const Scenario* scenario = Find(name);
  if (scenario == nullptr) {
    result.ok = false;
    result.violation = Violation{kScenario, fmt::format("no scenario named '{}'", name), {}};
    return result;
  }
  ClusterOptions options;
  options.seed = seed;
  base::Rand choices(seed ^ 0x5eed5eed5eed5eedULL);
  scenario->configure(options, choices, overrides);
  options.node.storage = overrides.storage;
  options.node.engine = overrides.engine;
  result.nodes = options.nodes;
  result.storage = overrides.storage;
  result.engine = overrides.engine;
  // The nodes' engines live in a directory of the run's own, removed when the run ends; its name
  // never reaches the trace, so runs stay replayable. Declared before the cluster, so that it
  // outlives the engines open in it.
  std::optional<io::ScratchDirectory> engines;
  if (overrides.engine == EngineKind::kRocksDb) {
    engines.emplace("raftkv-sim");
    options.node.engine_root = engines->path().empty() ? "/nonexistent" : engines->path();
  }

  Cluster cluster(options);
  cluster.trace().set_sink(overrides.trace_sink);
  scenario->body(cluster, overrides);
  if (!cluster.failed()) cluster.Quiesce(kQuiesceTimeoutUs);
  if (!cluster.failed()) cluster.CheckHistory();

  const SafetyChecker& checker = cluster.checker();
  result.ok = !checker.failed();
  result.violation = checker.violation();
  result.trace_hash = cluster.trace().hash();
  result.trace_events = cluster.trace().count();
  result.virtual_time_us = cluster.now_us();
  result.network = cluster.network().stats();
  result.network.entry_sends.clear();
  result.workload = cluster.workload().stats();
  result.leader_terms = checker.leader_terms();
  result.committed_index = checker.committed_index();
  if (cluster.lease_clients() != nullptr) {
    result.leases = RunResult::LeaseWatchStats{
        .clients = cluster.lease_clients()->stats(),
        .expiry_revokes_checked = cluster.lease_checker()->expiry_revokes_checked(),
        .watch_events = cluster.watch_checker()->events_seen(),
        .watch_compaction_restarts = cluster.watch_checker()->compaction_restarts()};
  }
  if (!result.ok) result.recent_events = cluster.trace().Render(result.violation->nodes, 80);
  if (overrides.keep_history || !result.ok) result.history = cluster.workload().History();
  return result;
}

}  // namespace raftkv::sim
