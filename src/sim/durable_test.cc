// The simulator with nodes on the real DurableStorage over a crashable in-memory disk: a crash
// drops every unsynced byte (tearing the last write) and the restart runs the WAL's recovery.
// The persistence, snapshot and churn scenarios and a mixed-fault sweep must hold exactly as
// they do on MemoryStorage. The sweep is split into shards so that ctest runs them in parallel;
// RAFTKV_SOAK=1 sweeps 100,000 seeds instead of 600.
#include <cstdlib>
#include <initializer_list>
#include <string>

#include "gtest/gtest.h"
#include "sim/runner.h"

namespace raftkv::sim {
namespace {

constexpr uint64_t kShards = 4;
constexpr uint64_t kSeedsPerShard = 150;
constexpr uint64_t kSoakSeedsPerShard = 25'000;

bool Soak() {
  const char* soak = std::getenv("RAFTKV_SOAK");
  return soak != nullptr && std::string(soak) == "1";
}

RunResult RunDurable(const std::string& name, uint64_t seed) {
  return RunScenario(name, seed, RunOverrides{.storage = StorageKind::kDurable});
}

void ExpectDurableScenarioHolds(const std::string& name, std::initializer_list<uint64_t> seeds) {
  for (uint64_t seed : seeds) {
    const RunResult result = RunDurable(name, seed);
    EXPECT_TRUE(result.ok) << result.Describe();
  }
}

TEST(DurableScenario, PersistenceAcrossCrashOfOneNode) {
  ExpectDurableScenarioHolds("persist_one_node", {1, 2});
}
TEST(DurableScenario, PersistenceAcrossCrashOfTheLeader) {
  ExpectDurableScenarioHolds("persist_leader", {1, 2});
}
TEST(DurableScenario, PersistenceAcrossCrashOfAllNodes) {
  ExpectDurableScenarioHolds("persist_all_nodes", {1, 2});
}
TEST(DurableScenario, SnapshotInstalledOnRestartedFollower) {
  ExpectDurableScenarioHolds("snapshot_restarted_follower", {1, 2});
}
TEST(DurableScenario, SnapshotsUnderCrashesAndLoss) {
  ExpectDurableScenarioHolds("snapshot_faults", {1, 2});
}
TEST(DurableScenario, ChurnWithCrashesUnreliableNetwork) {
  ExpectDurableScenarioHolds("churn_unreliable", {1});
}

TEST(DurableDeterminism, SameSeedGivesSameTraceHash) {
  const RunResult a = RunDurable("mixed", 7);
  const RunResult b = RunDurable("mixed", 7);
  ASSERT_TRUE(a.ok) << a.Describe();
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.trace_events, b.trace_events);
  EXPECT_EQ(a.virtual_time_us, b.virtual_time_us);
}

TEST(DurableDeterminism, ReplayCommandNamesTheStorage) {
  RunResult r;
  r.scenario = "mixed";
  r.seed = 5;
  r.storage = StorageKind::kDurable;
  EXPECT_EQ(r.ReplayCommand(), "raftkv-sim --scenario mixed --seed 5 --storage durable");
}

void RunDurableShard(uint64_t shard) {
  const uint64_t per_shard = Soak() ? kSoakSeedsPerShard : kSeedsPerShard;
  const uint64_t first = 1 + shard * per_shard;
  int violations = 0;
  for (uint64_t seed = first; seed < first + per_shard; ++seed) {
    const RunResult result = RunDurable("mixed", seed);
    if (!result.ok) {
      ++violations;
      ADD_FAILURE() << result.Describe();
    }
  }
  EXPECT_EQ(violations, 0) << "durable seeds " << first << ".." << first + per_shard - 1;
}

TEST(DurableSweep, Shard0) { RunDurableShard(0); }
TEST(DurableSweep, Shard1) { RunDurableShard(1); }
TEST(DurableSweep, Shard2) { RunDurableShard(2); }
TEST(DurableSweep, Shard3) { RunDurableShard(3); }

static_assert(kShards * kSeedsPerShard >= 600, "CI runs at least 600 durable mixed-fault seeds");

}  // namespace
}  // namespace raftkv::sim
