#include "io/fault_injection_env.h"

#include <gtest/gtest.h>

namespace raftkv::io {
namespace {

class FaultInjectionEnvTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_.CreateDir("/d").ok()); }

  std::unique_ptr<File> Create(const std::string& path) {
    auto f = env_.OpenFile(path, OpenMode::kCreate);
    EXPECT_TRUE(f.ok()) << f.status();
    return std::move(*f);
  }

  FaultInjectionEnv env_{42};
};

TEST_F(FaultInjectionEnvTest, CrashDropsUnsyncedBytesAndKeepsSyncedOnes) {
  auto f = Create("/d/f");
  ASSERT_TRUE(f->Append("durable").ok());
  ASSERT_TRUE(f->DataSync().ok());
  ASSERT_TRUE(env_.SyncDir("/d").ok());
  ASSERT_TRUE(f->Append(" lost").ok());
  env_.Crash(/*tear_last_write=*/false);
  EXPECT_EQ(*ReadFileToString(&env_, "/d/f"), "durable");
}

TEST_F(FaultInjectionEnvTest, CrashForgetsAFileWhoseDirectoryWasNotSynced) {
  auto f = Create("/d/f");
  ASSERT_TRUE(f->Append("x").ok());
  ASSERT_TRUE(f->Sync().ok());
  env_.Crash(false);
  EXPECT_FALSE(*env_.Exists("/d/f"));
}

TEST_F(FaultInjectionEnvTest, CrashUndoesARenameWhoseDirectoryWasNotSynced) {
  auto f = Create("/d/tmp");
  ASSERT_TRUE(f->Append("x").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(env_.SyncDir("/d").ok());
  ASSERT_TRUE(env_.Rename("/d/tmp", "/d/final").ok());
  env_.Crash(false);
  EXPECT_TRUE(*env_.Exists("/d/tmp"));
  EXPECT_FALSE(*env_.Exists("/d/final"));
}

TEST_F(FaultInjectionEnvTest, CrashUndoesARemovalWhoseDirectoryWasNotSynced) {
  auto f = Create("/d/f");
  ASSERT_TRUE(env_.SyncDir("/d").ok());
  ASSERT_TRUE(env_.Remove("/d/f").ok());
  EXPECT_FALSE(*env_.Exists("/d/f"));
  env_.Crash(false);
  EXPECT_TRUE(*env_.Exists("/d/f"));
}

TEST_F(FaultInjectionEnvTest, TornCrashKeepsOnlyAPrefixOfTheUnsyncedWrites) {
  const std::string unsynced = "0123456789abcdefghij";
  bool saw_partial = false;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    FaultInjectionEnv env(seed);
    ASSERT_TRUE(env.CreateDir("/d").ok());
    auto f = *env.OpenFile("/d/f", OpenMode::kCreate);
    ASSERT_TRUE(f->Append("base").ok());
    ASSERT_TRUE(f->Sync().ok());
    ASSERT_TRUE(env.SyncDir("/d").ok());
    ASSERT_TRUE(f->Append(unsynced.substr(0, 10)).ok());
    ASSERT_TRUE(f->Append(unsynced.substr(10)).ok());
    env.Crash(/*tear_last_write=*/true);
    const std::string after = *ReadFileToString(&env, "/d/f");
    ASSERT_GE(after.size(), 4u);
    EXPECT_EQ(after, ("base" + unsynced).substr(0, after.size()));
    EXPECT_LT(after.size(), 4 + unsynced.size());  // the last write is always cut
    saw_partial |= after.size() > 4;
  }
  EXPECT_TRUE(saw_partial);
}

TEST_F(FaultInjectionEnvTest, PageWritebackCrashKeepsEachUnsyncedPageWholeOrNotAtAll) {
  const std::string synced(100, 's');
  std::string unsynced;
  for (char c : std::string("abcdefghij")) unsynced += std::string(50, c);
  bool saw_later_page_without_earlier = false;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    FaultInjectionEnv env(seed);
    ASSERT_TRUE(env.CreateDir("/d").ok());
    auto f = *env.OpenFile("/d/f", OpenMode::kCreate);
    ASSERT_TRUE(f->Allocate(1000).ok());
    ASSERT_TRUE(f->WriteAt(0, synced).ok());
    ASSERT_TRUE(f->Sync().ok());
    ASSERT_TRUE(env.SyncDir("/d").ok());
    ASSERT_TRUE(f->WriteAt(100, unsynced).ok());  // one write over pages 1..5 of 100 bytes
    env.CrashWritingBackPagesInAnyOrder(/*page_bytes=*/100);
    const std::string after = *ReadFileToString(&env, "/d/f");
    ASSERT_EQ(after.size(), 1000u);
    EXPECT_EQ(after.substr(0, 100), synced) << "synced data is never lost";
    std::vector<bool> kept;
    for (uint64_t page = 1; page <= 5; ++page) {
      const std::string got = after.substr(page * 100, 100);
      const std::string written = unsynced.substr((page - 1) * 100, 100);
      EXPECT_TRUE(got == written || got == std::string(100, '\0')) << "page " << page;
      kept.push_back(got == written);
    }
    EXPECT_EQ(after.substr(600), std::string(400, '\0'));
    for (size_t i = 0; i + 1 < kept.size(); ++i) {
      saw_later_page_without_earlier |= !kept[i] && kept[i + 1];
    }
  }
  EXPECT_TRUE(saw_later_page_without_earlier);
}

TEST_F(FaultInjectionEnvTest, GatherWriteAtReadsBackAsTheConcatenationAndIsLostUnsynced) {
  auto f = Create("/d/f");
  ASSERT_TRUE(f->Append("durable").ok());
  ASSERT_TRUE(f->DataSync().ok());
  ASSERT_TRUE(env_.SyncDir("/d").ok());
  const std::string_view pieces[] = {" lo", "", "st"};
  ASSERT_TRUE(f->GatherWriteAt(7, pieces).ok());
  EXPECT_EQ(*ReadFileToString(&env_, "/d/f"), "durable lost");
  env_.Crash(/*tear_last_write=*/false);
  EXPECT_EQ(*ReadFileToString(&env_, "/d/f"), "durable");
}

TEST_F(FaultInjectionEnvTest, TornCrashCutsAGatheredWriteAnywhereLikeOneWrite) {
  const std::string first = "0123456789", second = "abcdefghij";
  bool cut_in_first = false, cut_in_second = false;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    FaultInjectionEnv env(seed);
    ASSERT_TRUE(env.CreateDir("/d").ok());
    auto f = *env.OpenFile("/d/f", OpenMode::kCreate);
    ASSERT_TRUE(f->Append("base").ok());
    ASSERT_TRUE(f->Sync().ok());
    ASSERT_TRUE(env.SyncDir("/d").ok());
    const std::string_view pieces[] = {first, second};
    ASSERT_TRUE(f->GatherWriteAt(4, pieces).ok());
    env.Crash(/*tear_last_write=*/true);
    const std::string after = *ReadFileToString(&env, "/d/f");
    ASSERT_GE(after.size(), 4u);
    EXPECT_EQ(after, ("base" + first + second).substr(0, after.size()));
    EXPECT_LT(after.size(), 4 + first.size() + second.size());  // the write is always cut
    cut_in_first |= after.size() > 4 && after.size() < 4 + first.size();
    cut_in_second |= after.size() > 4 + first.size();
  }
  // One pending write, not one per piece: the cut falls inside either piece.
  EXPECT_TRUE(cut_in_first);
  EXPECT_TRUE(cut_in_second);
}

TEST_F(FaultInjectionEnvTest, GatherWriteAtIsOneMutatingOperation) {
  auto f = Create("/d/f");
  const uint64_t before = env_.mutating_ops();
  const std::string_view pieces[] = {"a", "b", "c"};
  env_.CrashAfter(1);
  ASSERT_TRUE(f->GatherWriteAt(0, pieces).ok());
  EXPECT_EQ(env_.mutating_ops(), before + 1);
  EXPECT_EQ(f->GatherWriteAt(3, pieces).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(*env_.Contents("/d/f"), "abc");
}

TEST_F(FaultInjectionEnvTest, HandlesFromBeforeACrashAreDead) {
  auto f = Create("/d/f");
  env_.Crash();
  EXPECT_EQ(f->Append("x").code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(FaultInjectionEnvTest, CrashAfterFreezesAfterTheGivenNumberOfMutations) {
  auto f = Create("/d/f");
  env_.CrashAfter(2);
  EXPECT_TRUE(f->Append("a").ok());
  EXPECT_TRUE(f->Append("b").ok());
  EXPECT_EQ(f->Append("c").code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(env_.frozen());
  EXPECT_EQ(f->DataSync().code(), absl::StatusCode::kUnavailable);
  env_.Crash();
  EXPECT_FALSE(env_.frozen());
}

TEST_F(FaultInjectionEnvTest, LocksAreExclusiveAndReleasedByACrash) {
  auto lock = env_.LockFile("/d/LOCK");
  ASSERT_TRUE(lock.ok());
  EXPECT_EQ(env_.LockFile("/d/LOCK").status().code(), absl::StatusCode::kFailedPrecondition);
  env_.Crash();
  EXPECT_TRUE(env_.LockFile("/d/LOCK").ok());
}

TEST_F(FaultInjectionEnvTest, UnsyncedTruncateIsUndoneByACrash) {
  auto f = Create("/d/f");
  ASSERT_TRUE(f->Append("abcdef").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(env_.SyncDir("/d").ok());
  ASSERT_TRUE(f->Truncate(2).ok());
  ASSERT_TRUE(f->Append("Z").ok());  // the last unsynced operation, torn to nothing or kept
  env_.Crash(/*tear_last_write=*/false);
  EXPECT_EQ(*ReadFileToString(&env_, "/d/f"), "abcdef");
}

TEST_F(FaultInjectionEnvTest, CorruptByteDamagesTheDurableView) {
  auto f = Create("/d/f");
  ASSERT_TRUE(f->Append("abc").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(env_.SyncDir("/d").ok());
  ASSERT_TRUE(env_.CorruptByte("/d/f", 1, 0x01).ok());
  env_.Crash(false);
  EXPECT_EQ(*ReadFileToString(&env_, "/d/f"), "acc");
}

}  // namespace
}  // namespace raftkv::io
