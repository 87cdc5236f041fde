// Pinned simulator regressions: each test replays one seed of the "mixed" scenario that once
// found a bug in the consensus core, and expects the run to hold every property again. The
// test names the rule that was broken; the comment says what the seed's run did and which fix
// it needs. The seeds were found when nodes ran the simulator's own Ready loop over a toy
// state machine; since nodes run the node driver over the real store, the same seeds drive
// different runs, which still have to hold.
#include <cstdint>

#include "gtest/gtest.h"
#include "sim/runner.h"

namespace raftkv::sim {
namespace {

void ExpectMixedSeedHolds(uint64_t seed) {
  const RunResult result = RunScenario("mixed", seed);
  EXPECT_TRUE(result.ok) << result.Describe();
}

// Seed 66 (3 nodes): a follower's whole replicate window was lost in transit while the leader
// compacted its log past that window; the leader never sent the follower anything again.
// Needs "a full replicate window whose preceding entry was compacted falls back to probing".
TEST(MixedFaultRegression, LostReplicateWindowBehindCompactionIsRepairedBySnapshot_Seed66) {
  ExpectMixedSeedHolds(66);
}

// Seed 357 (5 nodes): the same bug as seed 66, reached through a different run.
TEST(MixedFaultRegression, LostReplicateWindowBehindCompactionIsRepairedBySnapshot_Seed357) {
  ExpectMixedSeedHolds(357);
}

// Seed 161 (5 nodes): a voter was removed and added back after the leader's last snapshot;
// it refused that snapshot because its configuration did not list it, answering each one at
// its commit index, and the leader kept resending it forever. Needs "a follower restores a
// snapshot whose configuration predates its own addition".
TEST(MixedFaultRegression, NewMemberRestoresSnapshotThatPredatesItsAddition_Seed161) {
  ExpectMixedSeedHolds(161);
}

}  // namespace
}  // namespace raftkv::sim
