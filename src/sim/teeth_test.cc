// The checks catch real violations: each test takes a genuine recorded run or history, injects
// one known violation, and expects the checker to name the right property.
#include "gtest/gtest.h"
#include "lincheck/history.h"
#include "sim/cluster.h"
#include "sim/runner.h"

namespace raftkv::sim {
namespace {

ClusterOptions ThreeNodes() {
  ClusterOptions options;
  options.seed = 11;
  options.nodes = 3;
  return options;
}

TEST(Teeth, SecondLeaderInjectedIntoARecordedRunViolatesElectionSafety) {
  Cluster cluster(ThreeNodes());
  ASSERT_NE(cluster.Agree("v", 3, 5'000'000), 0u);
  ASSERT_FALSE(cluster.failed());
  const uint64_t leader = cluster.Leader();
  const uint64_t other = leader == 1 ? 2 : 1;
  cluster.checker().ObserveRole(other, cluster.node(leader).term(), raft::StateRole::kLeader);
  ASSERT_TRUE(cluster.failed());
  EXPECT_EQ(cluster.checker().violation()->property, kElectionSafety);
}

TEST(Teeth, ReplicaWhoseStoreDivergesViolatesStateMachineSafety) {
  Cluster cluster(ThreeNodes());
  ASSERT_NE(cluster.Agree("v", 3, 5'000'000), 0u);
  ASSERT_FALSE(cluster.failed());
  // A replica that claims the applied index of the others with a different store: as if it had
  // restored a snapshot holding something else.
  const uint64_t leader = cluster.Leader();
  const uint64_t other = leader == 1 ? 2 : 1;
  raftpb::SnapshotMetadata metadata;
  metadata.set_index(cluster.node(leader).applied());
  metadata.set_term(cluster.node(leader).term());
  cluster.checker().ObserveApplySnapshot(other, metadata, /*state_digest=*/12345);
  ASSERT_TRUE(cluster.failed());
  EXPECT_EQ(cluster.checker().violation()->property, kStateMachineSafety);
}

TEST(Teeth, AcknowledgedWriteThatNeverCommittedIsReportedLost) {
  Cluster cluster(ThreeNodes());
  cluster.workload().Start();
  cluster.RunFor(1'000'000);
  cluster.Quiesce(10'000'000);
  ASSERT_FALSE(cluster.failed());
  ASSERT_GT(cluster.workload().stats().ok, 0u);
  // A write the cluster never saw, acknowledged at an index that holds something else.
  cluster.checker().ObserveAcknowledgedWrite("forged put", 2, cluster.node(1).term(), "forged");
  cluster.CheckHistory();
  ASSERT_TRUE(cluster.failed());
  EXPECT_EQ(cluster.checker().violation()->property, kAckedWriteLost);
}

// A genuine history: clients against a cluster with crashes and restarts.
const RunResult& RecordedRun() {
  static const RunResult run = [] {
    RunOverrides overrides;
    overrides.keep_history = true;
    overrides.steps = 10;
    return RunScenario("churn_reliable", 3, overrides);
  }();
  return run;
}

TEST(Teeth, RecordedHistoryIsLinearizable) {
  const RunResult& run = RecordedRun();
  ASSERT_TRUE(run.ok) << run.Describe();
  ASSERT_GT(run.history.size(), 100u);
  EXPECT_EQ(CheckLinearizable(run.history), std::nullopt);
}

TEST(Teeth, StaleReadAppendedToARecordedHistoryIsNotLinearizable) {
  const RunResult& run = RecordedRun();
  ASSERT_TRUE(run.ok) << run.Describe();
  lincheck::History history = run.history;
  int64_t last = 0;
  for (const auto& op : history) last = std::max({last, op.call, op.ret});
  // After everything: a put of a fresh value completes, then a read returns the value from
  // before it.
  lincheck::Operation put;
  put.client_id = 100;
  put.kind = lincheck::OpKind::kPut;
  put.key = "k0";
  put.value = "fresh";
  put.status = lincheck::OpStatus::kOk;
  put.call = last + 1;
  put.ret = last + 2;
  lincheck::Operation get;
  get.client_id = 101;
  get.kind = lincheck::OpKind::kGet;
  get.key = "k0";
  get.status = lincheck::OpStatus::kOk;
  get.output = std::nullopt;  // "absent": staler than anything, k0 was written before
  get.call = last + 3;
  get.ret = last + 4;
  history.push_back(put);
  history.push_back(get);
  const auto violation = CheckLinearizable(history);
  ASSERT_TRUE(violation.has_value());
  EXPECT_EQ(violation->property, kLinearizability);
}

}  // namespace
}  // namespace raftkv::sim
