// The end of a run: once every fault is healed and every member runs again, every member must
// reach the same revision, and Maintenance.HashKV at that revision (a hash of the whole key
// history up to it) must be the same on all of them.
#pragma once

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "fault_cluster.h"
#include "run_log.h"

namespace raftkv::faults {

struct ConvergenceResult {
  bool converged = false;  // every member reported the same revision, twice in a row
  int64_t revision = 0;
  bool hashes_agree = false;  // HashKV(revision) answered the same hash everywhere
  std::string detail;         // what each member said, for the report
};

ConvergenceResult CheckConvergence(FaultCluster& cluster, RunLog& log, absl::Duration timeout);

}  // namespace raftkv::faults
