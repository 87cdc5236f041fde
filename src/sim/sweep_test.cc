// The mixed-fault sweep: many seeds of the "mixed" scenario (every fault, every knob drawn
// from the seed), split into shards so that ctest runs them in parallel, and a shorter one of
// "mixed_leases" (the same with lease clients and watchers, about twice the cost per seed).
// RAFTKV_SOAK=1 runs the long sweeps (100,000 and 25,000 seeds) instead.
#include <cstdlib>
#include <string>

#include "gtest/gtest.h"
#include "sim/runner.h"

namespace raftkv::sim {
namespace {

constexpr uint64_t kShards = 4;
constexpr uint64_t kSeedsPerShard = 150;
constexpr uint64_t kSoakSeedsPerShard = 25'000;
constexpr uint64_t kLeaseSeeds = 150;
constexpr uint64_t kSoakLeaseSeeds = 25'000;

bool Soak() {
  const char* soak = std::getenv("RAFTKV_SOAK");
  return soak != nullptr && std::string(soak) == "1";
}

void RunSeeds(const std::string& scenario, uint64_t first, uint64_t count) {
  int violations = 0;
  for (uint64_t seed = first; seed < first + count; ++seed) {
    const RunResult result = RunScenario(scenario, seed);
    if (!result.ok) {
      ++violations;
      ADD_FAILURE() << result.Describe();
    }
  }
  EXPECT_EQ(violations, 0) << scenario << " seeds " << first << ".." << first + count - 1;
}

void RunShard(uint64_t shard) {
  const uint64_t per_shard = Soak() ? kSoakSeedsPerShard : kSeedsPerShard;
  RunSeeds("mixed", 1 + shard * per_shard, per_shard);
}

TEST(MixedFaultSweep, Shard0) { RunShard(0); }
TEST(MixedFaultSweep, Shard1) { RunShard(1); }
TEST(MixedFaultSweep, Shard2) { RunShard(2); }
TEST(MixedFaultSweep, Shard3) { RunShard(3); }

TEST(LeaseWatchSweep, Leases) { RunSeeds("mixed_leases", 1, Soak() ? kSoakLeaseSeeds : kLeaseSeeds); }

static_assert(kShards * kSeedsPerShard >= 600, "CI runs at least 600 mixed-fault seeds");

}  // namespace
}  // namespace raftkv::sim
