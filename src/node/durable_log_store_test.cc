// The WAL-backed log store keeps what a Ready promises across a power cut.
#include "node/durable_log_store.h"

#include <memory>

#include "gtest/gtest.h"
#include "io/fault_injection_env.h"

namespace raftkv::node {
namespace {

TEST(DurableLogStoreTest, ARestartNeverFindsACommitIndexBelowTheInstalledSnapshot) {
  // The core marks a Ready that only installs a snapshot as needing no sync (its term and vote
  // did not change), but the snapshot itself is durable at once: the hard state committing it
  // must be too, or a restart starts with its commit index behind its own snapshot.
  io::FaultInjectionEnv disk(7);
  std::vector<peerpb::Member> founders(1);
  founders[0].set_id(1);
  {
    auto store = DurableLogStore::Open(&disk, "/data", founders, {});
    ASSERT_TRUE(store.ok()) << store.status();
    raft::Ready ready;
    raftpb::Snapshot& snapshot = ready.snapshot.emplace();
    snapshot.mutable_metadata()->set_index(16);
    snapshot.mutable_metadata()->set_term(2);
    snapshot.mutable_metadata()->mutable_conf_state()->add_voters(1);
    ready.hard_state.emplace();
    ready.hard_state->set_term(2);
    ready.hard_state->set_commit(16);
    ready.must_sync = false;
    ASSERT_TRUE((*store)->Save(ready).ok());
  }
  disk.Crash(/*tear_last_write=*/true);
  auto store = DurableLogStore::Open(&disk, "/data", founders, {});
  ASSERT_TRUE(store.ok()) << store.status();
  raftpb::HardState hard_state;
  raftpb::ConfState conf_state;
  ASSERT_TRUE((*store)->storage().InitialState(&hard_state, &conf_state).ok());
  EXPECT_EQ((*store)->storage().FirstIndex(), 17u);
  EXPECT_GE(hard_state.commit(), 16u);
}

}  // namespace
}  // namespace raftkv::node
