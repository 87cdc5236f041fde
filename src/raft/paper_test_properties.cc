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
  // Liveness once the faults stop: within 20 election timeouts there is a leader that has
  // committed an entry of its own (proposals may be lost while leadership still changes), and
  // every node holds and has applied the leader's whole log.
  auto converged = [&](uint64_t leader) {
    std::vector<std::string> data = c.AppliedData(leader);
    if (data.empty() || data.back() != "final") return false;
    for (uint64_t id : c.ids()) {
      if (c.LogTerms(id) != c.LogTerms(leader)) return false;
      if (c.applied_index(id) != c.storage(leader).LastIndex()) return false;
    }
    return true;
  };
  uint64_t leader = 0;
  for (int round = 0; round < 200; ++round) {
    c.TickAll();
    c.Stabilize();
    leader = c.Leader();
    if (leader == 0) continue;
    if (converged(leader)) break;
    std::vector<std::string> data = c.AppliedData(leader);
    bool pending = c.storage(leader).LastIndex() > c.applied_index(leader);
    if ((data.empty() || data.back() != "final") && !pending) (void)c.Propose(leader, "final");
  }
  ASSERT_NE(leader, 0u) << "seed " << seed << ": no leader after healing";
  EXPECT_TRUE(converged(leader)) << "seed " << seed << ": the healed cluster did not converge";

  std::vector<raftpb::Entry> leader_log = c.Log(leader);
  ASSERT_FALSE(leader_log.empty()) << "seed " << seed;
  for (uint64_t id : c.ids()) {
    // Leader Completeness: whatever anyone applied is in the leader's log.
    for (const auto& e : c.applied(id)) {
      if (e.index() < c.storage(leader).FirstIndex()) continue;
      ASSERT_LE(e.index(), leader_log.back().index()) << "seed " << seed;
      const raftpb::Entry& mine = leader_log[e.index() - leader_log.front().index()];
      EXPECT_EQ(mine.term(), e.term()) << "seed " << seed << " node " << id;
      EXPECT_EQ(mine.data(), e.data()) << "seed " << seed << " node " << id;
    }
    // Log Matching: where two logs hold an entry of the same term at an index, they are
    // identical up to it.
    std::vector<raftpb::Entry> log = c.Log(id);
    for (size_t i = log.size(); i-- > 0;) {
      uint64_t index = log[i].index();
      if (index < leader_log.front().index() || index > leader_log.back().index()) continue;
      if (leader_log[index - leader_log.front().index()].term() != log[i].term()) continue;
      for (size_t j = 0; j <= i; ++j) {
        uint64_t k = log[j].index();
        if (k < leader_log.front().index()) continue;
        EXPECT_EQ(leader_log[k - leader_log.front().index()].term(), log[j].term())
            << "seed " << seed << " node " << id << " index " << k;
      }
      break;
    }
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
