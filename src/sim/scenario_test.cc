// One test per scenario: each runs the scenario over a few seeds and expects no violation of
// any safety property, of linearizability, or of the scenario's own expectations.
#include <string>

#include "gtest/gtest.h"
#include "sim/runner.h"

namespace raftkv::sim {
namespace {

void ExpectScenarioHolds(const std::string& name, std::initializer_list<uint64_t> seeds) {
  for (uint64_t seed : seeds) {
    const RunResult result = RunScenario(name, seed);
    EXPECT_TRUE(result.ok) << result.Describe();
  }
}

TEST(Scenario, FirstElectionElectsOneStableLeader) {
  ExpectScenarioHolds("first_election", {1, 2, 3});
}
TEST(Scenario, ReElectionAfterTheLeaderIsCutOff) { ExpectScenarioHolds("reelection", {1, 2, 3}); }
TEST(Scenario, ManyElectionsUnderRandomPartitions) {
  ExpectScenarioHolds("many_elections", {1, 2});
}
TEST(Scenario, BasicAgreement) { ExpectScenarioHolds("basic_agreement", {1, 2, 3}); }
TEST(Scenario, EachEntryIsSentToEachFollowerAboutOnce) {
  ExpectScenarioHolds("each_entry_once", {1, 2});
}
TEST(Scenario, AgreementWhileAFollowerIsCutOff) {
  ExpectScenarioHolds("follower_cut_off", {1, 2, 3});
}
TEST(Scenario, NoCommitmentWithoutAMajority) {
  ExpectScenarioHolds("no_commit_without_majority", {1, 2});
}
TEST(Scenario, ConcurrentProposals) { ExpectScenarioHolds("concurrent_proposals", {1, 2, 3}); }
TEST(Scenario, PartitionedOldLeaderRejoins) {
  ExpectScenarioHolds("partitioned_leader_rejoins", {1, 2, 3});
}
TEST(Scenario, LeaderQuicklyRepairsFarBehindFollowers) {
  ExpectScenarioHolds("far_behind_follower", {1, 2});
}
TEST(Scenario, PersistenceAcrossCrashOfOneNode) { ExpectScenarioHolds("persist_one_node", {1, 2}); }
TEST(Scenario, PersistenceAcrossCrashOfTheLeader) { ExpectScenarioHolds("persist_leader", {1, 2}); }
TEST(Scenario, PersistenceAcrossCrashOfAllNodes) {
  ExpectScenarioHolds("persist_all_nodes", {1, 2});
}
TEST(Scenario, Figure8) { ExpectScenarioHolds("figure8", {1, 2, 3}); }
TEST(Scenario, Figure8UnreliableNetwork) { ExpectScenarioHolds("figure8_unreliable", {1, 2}); }
TEST(Scenario, UnreliableAgreement) { ExpectScenarioHolds("unreliable_agreement", {1, 2}); }
TEST(Scenario, ChurnWithCrashesReliableNetwork) { ExpectScenarioHolds("churn_reliable", {1, 2}); }
TEST(Scenario, ChurnWithCrashesUnreliableNetwork) {
  ExpectScenarioHolds("churn_unreliable", {1, 2});
}
TEST(Scenario, SnapshotInstalledOnLaggingFollower) {
  ExpectScenarioHolds("snapshot_lagging_follower", {1, 2});
}
TEST(Scenario, SnapshotInstalledOnRestartedFollower) {
  ExpectScenarioHolds("snapshot_restarted_follower", {1, 2});
}
TEST(Scenario, SnapshotsUnderCrashesAndLoss) { ExpectScenarioHolds("snapshot_faults", {1, 2}); }
TEST(Scenario, MembershipChurnUnderFaults) { ExpectScenarioHolds("membership_churn", {1, 2}); }
TEST(Scenario, LeadershipTransfer) { ExpectScenarioHolds("leadership_transfer", {1, 2}); }
TEST(Scenario, LeadershipTransferUnderFaults) {
  ExpectScenarioHolds("leadership_transfer_faults", {1, 2});
}
TEST(Scenario, PreVoteKeepsAPartitionedFollowerFromDisrupting) {
  ExpectScenarioHolds("prevote_partition", {1, 2});
}
TEST(Scenario, CheckQuorumMakesACutOffLeaderStepDown) {
  ExpectScenarioHolds("check_quorum_partition", {1, 2});
}

TEST(Scenario, MixedFaultsWithLeasesAndWatches) {
  // The lease and watch checks only mean something if the runs exercise them: across these
  // seeds, leases are granted, kept alive, revoked by clients and by expiry (each expiry revoke
  // checked against the keep-alives before it), and watchers see events.
  RunResult::LeaseWatchStats total;
  for (uint64_t seed : {1, 2, 3, 4}) {
    const RunResult result = RunScenario("mixed_leases", seed);
    EXPECT_TRUE(result.ok) << result.Describe();
    ASSERT_TRUE(result.leases.has_value());
    total.clients.granted += result.leases->clients.granted;
    total.clients.renewed += result.leases->clients.renewed;
    total.clients.revoked += result.leases->clients.revoked;
    total.expiry_revokes_checked += result.leases->expiry_revokes_checked;
    total.watch_events += result.leases->watch_events;
  }
  EXPECT_GT(total.clients.granted, 0u);
  EXPECT_GT(total.clients.renewed, 0u);
  EXPECT_GT(total.clients.revoked, 0u);
  EXPECT_GT(total.expiry_revokes_checked, 0u);
  EXPECT_GT(total.watch_events, 0u);
}

TEST(Scenario, EveryScenarioHasATest) {
  // Keep this list in step with the tests above; a new scenario needs a test of its own.
  EXPECT_EQ(Scenarios().size(), 28u);
}

}  // namespace
}  // namespace raftkv::sim
