// The table of named scenarios behind RunScenario (internal to the simulator).
#pragma once

#include <string>
#include <vector>

#include "base/rand.h"
#include "sim/cluster.h"
#include "sim/runner.h"

namespace raftkv::sim {

struct Scenario {
  const char* name;
  const char* description;
  // Adjusts the default options; `choices` is a random source for seed-dependent settings,
  // separate from the cluster's so that choosing them does not shift the run itself.
  void (*configure)(ClusterOptions& options, base::Rand& choices, const RunOverrides& overrides);
  // Drives the cluster. Expectations that fail are reported as kScenario violations.
  void (*body)(Cluster& cluster, const RunOverrides& overrides);
  // Whether simulated clients run during the body.
  bool clients;
};

const std::vector<Scenario>& ScenarioTable();

}  // namespace raftkv::sim
