#include "storage/wal_committer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "io/fault_injection_env.h"
#include "storage/test_util.h"

namespace raftkv::storage {
namespace {

TEST(WalCommitterTest, ConcurrentCommitsAreAllDurableWithAtMostOneSyncEach) {
  io::FaultInjectionEnv env(3);
  WalRecovery rec;
  auto wal = Wal::Open(&env, "/data", WalOptions{.segment_bytes = 1 << 20}, &rec);
  ASSERT_TRUE(wal.ok());
  WalCommitter committer(wal->get());
  constexpr int kThreads = 8, kPerThread = 50;
  const uint64_t syncs_before = env.file_syncs();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kPerThread; ++k) {
        WalBatch batch;
        batch.SetHardState(testing::MakeHardState(t, k, 0));
        if (!committer.Commit(batch).ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(env.file_syncs() - syncs_before, uint64_t{kThreads * kPerThread});
  EXPECT_EQ(env.file_syncs() - syncs_before, committer.groups());

  // Every acknowledged record survives a power loss.
  wal->reset();
  env.Crash();
  auto reopened = Wal::Open(&env, "/data", WalOptions{.segment_bytes = 1 << 20}, &rec);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(rec.dropped_tail_bytes, 0u);
  EXPECT_NE(rec.hard_state.vote() + rec.hard_state.term(), 0u);
}

TEST(WalCommitterTest, AFailedSyncIsReportedToEveryWaiterOfItsGroupAndLaterOnes) {
  io::FaultInjectionEnv env(4);
  WalRecovery rec;
  auto wal = Wal::Open(&env, "/data", WalOptions{.segment_bytes = 1 << 20}, &rec);
  ASSERT_TRUE(wal.ok());
  WalCommitter committer(wal->get());
  env.CrashAfter(0);
  WalBatch batch;
  batch.SetHardState(testing::MakeHardState(1, 1, 0));
  EXPECT_FALSE(committer.Commit(batch).ok());
  EXPECT_FALSE(committer.Commit(batch).ok());
}

}  // namespace
}  // namespace raftkv::storage
