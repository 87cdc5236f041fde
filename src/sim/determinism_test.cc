// A run is a pure function of its seed: replaying a seed reproduces the trace bit for bit.
#include "gtest/gtest.h"
#include "sim/runner.h"

namespace raftkv::sim {
namespace {

TEST(Determinism, SameSeedGivesSameTraceHash) {
  const RunResult a = RunScenario("mixed", 7);
  const RunResult b = RunScenario("mixed", 7);
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.trace_events, b.trace_events);
  EXPECT_EQ(a.virtual_time_us, b.virtual_time_us);
  EXPECT_GT(a.trace_events, 1000u);
}

TEST(Determinism, DifferentSeedsGiveDifferentRuns) {
  EXPECT_NE(RunScenario("mixed", 1).trace_hash, RunScenario("mixed", 2).trace_hash);
}

TEST(Determinism, ReplayCommandNamesScenarioAndSeed) {
  RunResult r;
  r.scenario = "figure8";
  r.seed = 99;
  EXPECT_EQ(r.ReplayCommand(), "raftkv-sim --scenario figure8 --seed 99");
}

}  // namespace
}  // namespace raftkv::sim
