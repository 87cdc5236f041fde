// The simulator with every node's key-value state in the RocksDB engine (kv::RocksDbEngine) over
// the real WAL on the crashable disk: a restart reopens the engine at its applied index instead
// of rebuilding the state from the log, and a power cut can leave the engine ahead of the commit
// index the log recovered. The persistence, snapshot and churn scenarios and a mixed-fault
// sweep must hold exactly as they do on the memory engine. The sweep is sharded for ctest;
// RAFTKV_SOAK=1 runs 2,000 seeds per shard instead of 50.
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <string>

#include "gtest/gtest.h"
#include "kv/engine_test_util.h"
#include "sim/cluster.h"
#include "sim/runner.h"

namespace raftkv::sim {
namespace {

constexpr uint64_t kSeedsPerShard = 50;
constexpr uint64_t kSoakSeedsPerShard = 2'000;

bool Soak() {
  const char* soak = std::getenv("RAFTKV_SOAK");
  return soak != nullptr && std::string(soak) == "1";
}

constexpr RunOverrides kOnRocksDb{.storage = StorageKind::kDurable,
                                  .engine = EngineKind::kRocksDb};

void ExpectScenarioHolds(const std::string& name, std::initializer_list<uint64_t> seeds) {
  for (uint64_t seed : seeds) {
    const RunResult result = RunScenario(name, seed, kOnRocksDb);
    EXPECT_TRUE(result.ok) << result.Describe();
  }
}

TEST(EngineScenario, PersistenceAcrossCrashOfOneNode) {
  ExpectScenarioHolds("persist_one_node", {1, 2});
}
TEST(EngineScenario, PersistenceAcrossCrashOfTheLeader) {
  ExpectScenarioHolds("persist_leader", {1, 2});
}
TEST(EngineScenario, PersistenceAcrossCrashOfAllNodes) {
  ExpectScenarioHolds("persist_all_nodes", {1, 2});
}
TEST(EngineScenario, SnapshotInstalledOnRestartedFollower) {
  ExpectScenarioHolds("snapshot_restarted_follower", {1, 2});
}
TEST(EngineScenario, SnapshotsUnderCrashesAndLoss) {
  ExpectScenarioHolds("snapshot_faults", {1, 2});
}
TEST(EngineScenario, ChurnWithCrashesUnreliableNetwork) {
  ExpectScenarioHolds("churn_unreliable", {1});
}
TEST(EngineScenario, MixedFaultsWithLeasesAndWatches) { ExpectScenarioHolds("mixed_leases", {1}); }

// What makes this engine different: a node comes back with its state, at the index it had
// applied, before it hears from anyone; on the memory engine it starts from its log's snapshot.
TEST(EngineScenario, ARestartedNodeComesBackAtItsAppliedIndex) {
  kv::testing::TempDir engines;
  ClusterOptions options;
  options.seed = 3;
  options.node.storage = StorageKind::kDurable;
  options.node.engine = EngineKind::kRocksDb;
  options.node.engine_root = engines.path();
  Cluster cluster(options);
  ASSERT_NE(cluster.Agree("first", 3, 5'000'000), 0u);
  ASSERT_NE(cluster.Agree("second", 3, 5'000'000), 0u);
  const uint64_t victim = 1;
  const uint64_t applied_before = cluster.node(victim).applied();
  ASSERT_GT(applied_before, 0u);
  cluster.Crash(victim);
  cluster.Restart(victim);
  EXPECT_EQ(cluster.node(victim).applied_at_start(), applied_before)
      << "the node did not reopen its engine at the index it had applied";
  EXPECT_TRUE(std::filesystem::exists(engines.path() + "/n1"));
  ASSERT_NE(cluster.Agree("third", 3, 5'000'000), 0u);
  EXPECT_FALSE(cluster.failed()) << cluster.checker().violation()->detail;
}

TEST(EngineDeterminism, SameSeedGivesSameTraceHash) {
  const RunResult a = RunScenario("mixed", 7, kOnRocksDb);
  const RunResult b = RunScenario("mixed", 7, kOnRocksDb);
  ASSERT_TRUE(a.ok) << a.Describe();
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.trace_events, b.trace_events);
  EXPECT_EQ(a.virtual_time_us, b.virtual_time_us);
}

TEST(EngineDeterminism, ReplayCommandNamesTheEngine) {
  RunResult r;
  r.scenario = "mixed";
  r.seed = 5;
  r.storage = StorageKind::kDurable;
  r.engine = EngineKind::kRocksDb;
  EXPECT_EQ(r.ReplayCommand(),
            "raftkv-sim --scenario mixed --seed 5 --storage durable --engine rocksdb");
}

void RunShard(uint64_t shard) {
  const uint64_t per_shard = Soak() ? kSoakSeedsPerShard : kSeedsPerShard;
  const uint64_t first = 500'001 + shard * per_shard;
  int violations = 0;
  for (uint64_t seed = first; seed < first + per_shard; ++seed) {
    const RunResult result = RunScenario("mixed", seed, kOnRocksDb);
    if (!result.ok) {
      ++violations;
      ADD_FAILURE() << result.Describe();
    }
  }
  EXPECT_EQ(violations, 0) << "rocksdb seeds " << first << ".." << first + per_shard - 1;
}

TEST(EngineSweep, Shard0) { RunShard(0); }
TEST(EngineSweep, Shard1) { RunShard(1); }

}  // namespace
}  // namespace raftkv::sim
