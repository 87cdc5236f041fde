// The safety properties of Figure 3 under random faults: seeded runs of a five-node cluster
// with message loss, reordering (random delivery order), partitions, crashes and restarts.
//
// The Cluster checks Election Safety (one leader per term) and State Machine Safety (no two
// different entries applied at one index) at every step; after each run this test also checks
// Log Matching and Leader Completeness, and that the healed cluster converges and commits.
// RAFTKV_SOAK=1 runs many more seeds.
#include <cstdlib>
#include <string>
#include <vector>

#include "base/rand.h"
#include "gtest/gtest.h"
#include "raft/testing/cluster.h"

namespace raftkv::raft::testing {
namespace {

constexpr int kNodes = 5;

bool Soak() {
  const char* soak = std::getenv("RAFTKV_SOAK");
  return soak != nullptr && std::string(soak) == "1";
}

// One random step. Returns a short description for the failure trail.
std::string RandomStep(Cluster& c, base::Rand& rand, int& proposals) {
  const uint64_t id = 1 + rand.Uniform(kNodes);
  switch (rand.Uniform(10)) {
    case 0:
    case 1:
    case 2: {
      c.TickAll();
      return "tick-all";
    }
    case 3: {
      uint64_t leader = c.Leader();
      if (leader == 0) return "no leader to propose to";
      (void)c.Propose(leader, "p" + std::to_string(proposals++));
      return "propose";
    }
    case 4:
    case 5: {
      int n = static_cast<int>(rand.Uniform(c.InFlight().size() + 1));
      for (int i = 0; i < n; ++i) {
        // Random order: pick any waiting message.
        size_t pick = rand.Uniform(c.InFlight().size());
        size_t seen = 0;
        c.DeliverFirst([&](const raftpb::Message&) { return seen++ == pick; });
      }
      return "deliver some";
    }
    case 6: {
      c.Drop([&](const raftpb::Message&) { return rand.Bernoulli(0.3); });
      return "drop some";
    }
    case 7: {
      if (rand.Bernoulli(0.5)) {
        c.Heal();
        return "heal";
      }
      std::vector<uint64_t> a;
      std::vector<uint64_t> b;
      for (uint64_t n = 1; n <= kNodes; ++n) (rand.Bernoulli(0.5) ? a : b).push_back(n);
      c.Heal();
      c.Partition({a, b});
      return "partition";
    }
    case 8: {
      if (c.IsDown(id)) {
        c.Restart(id);
        return "restart " + std::to_string(id);
      }
      c.Crash(id);
      return "crash " + std::to_string(id);
    }
    default: {
      c.DeliverAll();
      return "deliver all";
    }
  }
}

void RunSeed(uint64_t seed, int steps) {
  base::Rand rand(seed);
  ClusterOptions options;
  options.seed = seed;
  options.pre_vote = rand.Bernoulli(0.5);
  options.check_quorum = rand.Bernoulli(0.5);
  options.max_inflight_msgs = 1 + static_cast<int>(rand.Uniform(8));
  options.on_violation = [seed](const std::string& what) {
    FAIL() << "seed " << seed << ": " << what;
  };
  Cluster c(options);
  c.AddNodes(kNodes);
  int proposals = 0;
  for (int i = 0; i < steps; ++i) RandomStep(c, rand, proposals);

  // Heal everything and let the cluster converge.
  c.Heal();
  for (uint64_t id : c.ids()) {
    if (c.IsDown(id)) c.Restart(id);
  }
  for (int i = 0; i < 100 && c.Leader() == 0; ++i) {
    c.TickAll();
    c.Stabilize();
  }
  uint64_t leader = c.Leader();
  ASSERT_NE(leader, 0u) << "seed " << seed << ": no leader after healing";
  ASSERT_TRUE(c.Propose(leader, "final").ok()) << "seed " << seed;
  for (int i = 0; i < 3; ++i) {
    c.TickAll();
    c.Stabilize();
  }

  std::vector<raftpb::Entry> leader_log = c.Log(leader);
  for (uint64_t id : c.ids()) {
    // Leader Completeness: whatever anyone applied is in the leader's log.
    for (const auto& e : c.applied(id)) {
      if (e.index() < c.storage(leader).FirstIndex()) continue;
      ASSERT_LE(e.index(), leader_log.back().index()) << "seed " << seed;
      const raftpb::Entry& mine = leader_log[e.index() - leader_log.front().index()];
      EXPECT_EQ(mine.term(), e.term()) << "seed " << seed << " node " << id;
      EXPECT_EQ(mine.data(), e.data()) << "seed " << seed << " node " << id;
    }
    // Convergence (and with it Log Matching): every log equals the leader's.
    EXPECT_EQ(c.LogTerms(id), c.LogTerms(leader)) << "seed " << seed << " node " << id;
    std::vector<std::string> applied = c.AppliedData(id);
    EXPECT_TRUE(!applied.empty() && applied.back() == "final")
        << "seed " << seed << " node " << id << " did not apply the final entry";
  }
}

TEST(SafetyPropertiesTest, RandomFaultsNeverBreakFigure3Properties) {
  const int seeds = Soak() ? 2000 : 30;
  for (uint64_t seed = 1; seed <= static_cast<uint64_t>(seeds); ++seed) {
    RunSeed(seed, 300);
    if (::testing::Test::HasFailure()) break;
  }
}

}  // namespace
}  // namespace raftkv::raft::testing
