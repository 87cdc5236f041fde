// --force-new-cluster (etcd's restartAsStandaloneNode): a member of a cluster that lost its
// quorum keeps every committed write, drops its uncommitted tail, removes every other member
// through committed log entries, and then leads alone.
#include "node/force_new_cluster.h"

#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/fault_injection_env.h"
#include "node/applier.h"
#include "node/driver.h"
#include "node/driver_test_util.h"
#include "node/durable_log_store.h"

namespace raftkv::node {
namespace {

using ::testing::ElementsAre;

std::vector<peerpb::Member> Founders(int n) {
  std::vector<peerpb::Member> founders(n);
  for (int i = 0; i < n; ++i) founders[i].set_id(i + 1);
  return founders;
}

raftpb::Entry Normal(uint64_t index, uint64_t term) {
  raftpb::Entry entry;
  entry.set_index(index);
  entry.set_term(term);
  return entry;
}

TEST(ForceNewClusterTest, RemovesEveryOtherMemberAndDropsTheUncommittedTail) {
  io::FaultInjectionEnv disk(3);
  auto store = DurableLogStore::Open(&disk, "/data", Founders(3), {});
  ASSERT_TRUE(store.ok()) << store.status();
  storage::DurableStorage& log = (*store)->durable();
  // Term 2: entries 4 and 5 committed, 6 and 7 never were.
  raftpb::HardState hard_state;
  hard_state.set_term(2);
  hard_state.set_vote(1);
  hard_state.set_commit(5);
  ASSERT_TRUE(
      log.Save(hard_state, {Normal(4, 2), Normal(5, 2), Normal(6, 2), Normal(7, 2)}, true).ok());

  absl::StatusOr<ForcedCluster> forced = ForceNewCluster(log, /*self=*/1);
  ASSERT_TRUE(forced.ok()) << forced.status();
  EXPECT_THAT(forced->removed, ElementsAre(2, 3));
  EXPECT_EQ(forced->dropped_uncommitted, 2u);

  // Durable: a crash right after loses nothing of it.
  store->reset();
  disk.Crash();
  store = DurableLogStore::Open(&disk, "/data", Founders(3), {});
  ASSERT_TRUE(store.ok()) << store.status();
  raftpb::HardState after;
  raftpb::ConfState conf;
  ASSERT_TRUE((*store)->storage().InitialState(&after, &conf).ok());
  EXPECT_EQ(after.commit(), 7u);
  EXPECT_EQ(after.term(), 2u);
  EXPECT_EQ((*store)->storage().LastIndex(), 7u);
  auto entries = (*store)->storage().Entries(6, 8, UINT64_MAX);
  ASSERT_TRUE(entries.ok());
  for (const raftpb::Entry& entry : *entries) {
    EXPECT_EQ(entry.entry_type(), raftpb::ENTRY_CONF_CHANGE);
    raftpb::ConfChange change;
    ASSERT_TRUE(change.ParseFromString(entry.data()));
    EXPECT_EQ(change.change_type(), raftpb::CONF_CHANGE_REMOVE_NODE);
    EXPECT_EQ(change.node_id(), entry.index() - 4);  // 6 removes 2, 7 removes 3
  }
}

TEST(ForceNewClusterTest, AMemberTheLogDoesNotKnowCannotCarryOnAlone) {
  io::FaultInjectionEnv disk(4);
  auto store = DurableLogStore::Open(&disk, "/data", Founders(3), {});
  ASSERT_TRUE(store.ok());
  absl::StatusOr<ForcedCluster> forced = ForceNewCluster((*store)->durable(), /*self=*/9);
  EXPECT_EQ(forced.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ForceNewClusterTest, TheSurvivorKeepsItsDataAndLeadsAlone) {
  io::FaultInjectionEnv disk(5);
  // A three-member cluster wrote a key; then members 2 and 3 are gone for good.
  testing::TestCluster cluster(3);
  ASSERT_TRUE(cluster.Elect(1));
  bool written = false;
  cluster.driver(1).Write(testing::PutRequest("kept", "yes"), 10,
                          [&](WriteResult r) { written = r.ok(); });
  cluster.Stabilize();
  ASSERT_TRUE(written);
  // Member 1's log, copied onto a durable store (the server's), as it stood.
  raftpb::HardState hard_state;
  raftpb::ConfState conf;
  raft::Storage& memory = cluster.member(1).log->storage();
  ASSERT_TRUE(memory.InitialState(&hard_state, &conf).ok());
  auto entries = memory.Entries(1, memory.LastIndex() + 1, UINT64_MAX);
  ASSERT_TRUE(entries.ok());
  auto store = DurableLogStore::Open(&disk, "/data", {}, {});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->durable().Save(hard_state, *entries, true).ok());

  absl::StatusOr<ForcedCluster> forced = ForceNewCluster((*store)->durable(), 1);
  ASSERT_TRUE(forced.ok()) << forced.status();
  EXPECT_THAT(forced->removed, ElementsAre(2, 3));

  StoreApplier applier;
  testing::QueueNetwork network;
  DriverOptions options;
  options.id = 1;
  options.random_seed = 1;
  options.request_id_base = 1ull << 32;
  auto driver = Driver::Create(options, store->get(), &applier, &network);
  ASSERT_TRUE(driver.ok()) << driver.status();
  ASSERT_TRUE((*driver)->Process().ok());
  // The committed write survived, and the member list holds only the survivor.
  etcdserverpb::RangeRequest get;
  get.set_key("kept");
  absl::StatusOr<etcdserverpb::RangeResponse> kept = applier.store().Range(get);
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->kvs_size(), 1);
  EXPECT_EQ(kept->kvs(0).value(), "yes");
  ASSERT_EQ(applier.members().List().size(), 1u);
  EXPECT_EQ(applier.members().List()[0].id(), 1u);
  // Alone, it elects itself and commits a new write without anyone's vote.
  (*driver)->Campaign();
  ASSERT_TRUE((*driver)->Process().ok());
  EXPECT_EQ((*driver)->role(), raft::StateRole::kLeader);
  bool again = false;
  (*driver)->Write(testing::PutRequest("after", "1"), 10, [&](WriteResult r) { again = r.ok(); });
  ASSERT_TRUE((*driver)->Process().ok());
  ASSERT_TRUE((*driver)->Process().ok());
  EXPECT_TRUE(again);
  // Nothing went to the removed members: they are no longer part of its configuration.
  for (const raftpb::Message& m : network.sent) EXPECT_EQ(m.to(), 1u) << m.DebugString();
}

}  // namespace
}  // namespace raftkv::node
