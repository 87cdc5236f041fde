// The fault harness in the suite (docs/testing.md, "The fault harness of real processes"): three
// raftkv-server processes under every nemesis for a fixed list of seeds, and the harness's teeth:
// serializable reads from an isolated leader must be reported not linearizable.
//
// Both tests run the same library code as raftkv-fault-harness; a failure prints the run's
// summary, the checker's account of the violation, and the command that replays the seed.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>

#include "harness.h"

namespace raftkv::faults {
namespace {

HarnessOptions SuiteOptions(uint64_t seed) {
  HarnessOptions options;
  options.server_path = RAFTKV_SERVER_PATH;
  options.members = 3;
  options.seed = seed;
  options.duration = absl::Seconds(55);
  options.check_timeout = absl::Minutes(2);
  return options;
}

void Announce(const HarnessReport& report) {
  std::printf("fault harness mode: %s (%s)\n", std::string(NetworkModeName(report.mode)).c_str(),
              report.mode_note.c_str());
  ::testing::Test::RecordProperty("mode", std::string(NetworkModeName(report.mode)));
}

TEST(FaultHarness, ThreeMembersUnderEveryNemesisStayLinearizableAndConverge) {
  std::map<NemesisKind, int> applied;
  std::vector<NemesisKind> enabled;
  for (uint64_t seed : {1, 2}) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    const HarnessReport report = RunFaultHarness(SuiteOptions(seed));
    Announce(report);
    EXPECT_TRUE(report.problems.empty()) << report.Describe();
    EXPECT_TRUE(report.convergence.converged) << report.Describe();
    EXPECT_TRUE(report.convergence.hashes_agree) << report.Describe();
    EXPECT_EQ(report.check.verdict, lincheck::Verdict::kLinearizable) << report.Describe();
    // A run that did nothing must not pass: the clients got answers all along...
    EXPECT_GT(report.counts.with_status(lincheck::OpStatus::kOk), 500) << report.Describe();
    for (const auto& [kind, count] : report.applied) applied[kind] += count;
    enabled = report.enabled;
    if (report.mode == NetworkMode::kNamespaces) {
      EXPECT_EQ(report.enabled.size(), AllNemeses().size())
          << "a nemesis is missing in namespace mode:\n"
          << report.Describe();
    }
  }
  // ...and every nemesis the mode allows was applied (a transfer or replace that the cluster
  // refused is not counted).
  for (NemesisKind kind : enabled) {
    EXPECT_GE(applied[kind], 1) << NemesisName(kind) << " was never applied";
  }
}

TEST(FaultHarness, SerializableReadsFromAnIsolatedLeaderAreReportedNotLinearizable) {
  HarnessOptions options = SuiteOptions(/*seed=*/7);
  // Reads from the member's own store: an isolated leader keeps answering them while the
  // majority moves on, and a client that reads there after another client's write completed
  // on the majority sees the old value.
  options.workload.serializable_reads = true;
  options.nemeses = {NemesisKind::kIsolateLeader};
  options.timing = {.min_hold = absl::Seconds(3),
                    .max_hold = absl::Seconds(4),
                    .min_pause = absl::Seconds(1),
                    .max_pause = absl::Seconds(1)};
  // Bounded: the first violation stops the run, which usually comes in the first round.
  options.duration = absl::Seconds(60);
  options.stop_at_violation = true;
  options.expect_violation = true;
  const HarnessReport report = RunFaultHarness(options);
  Announce(report);
  if (report.mode == NetworkMode::kLoopback) {
    std::error_code ignored;
    std::filesystem::remove_all(report.run_dir, ignored);  // nothing ran in it
    GTEST_SKIP() << "no partition is possible in loopback mode: " << report.mode_note;
  }
  EXPECT_EQ(report.check.verdict, lincheck::Verdict::kNotLinearizable) << report.Describe();
  EXPECT_TRUE(report.stopped_at_violation) << report.Describe();
  EXPECT_GE(report.applied.count(NemesisKind::kIsolateLeader), 1u) << report.Describe();
  // The stale reads are the clients' doing; the cluster itself must still be sound.
  EXPECT_TRUE(report.problems.empty()) << report.Describe();
  EXPECT_TRUE(report.convergence.converged && report.convergence.hashes_agree) << report.Describe();
}

}  // namespace
}  // namespace raftkv::faults
