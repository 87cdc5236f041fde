// SyncTimingEnv reports every file sync with the file's path, and changes nothing else.
#include "io/sync_timing_env.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "io/error_injection_env.h"
#include "io/fault_injection_env.h"

namespace raftkv::io {
namespace {

TEST(SyncTimingEnvTest, ReportsEverySyncWithItsPath) {
  FaultInjectionEnv disk(1);
  std::vector<std::string> synced;
  SyncTimingEnv env(&disk, [&](const std::string& path, absl::Duration elapsed) {
    EXPECT_GE(elapsed, absl::ZeroDuration());
    synced.push_back(path);
  });
  ASSERT_TRUE(env.CreateDir("/d").ok());
  auto file = env.OpenFile("/d/wal", OpenMode::kCreate);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE((*file)->Append("abc").ok());
  ASSERT_TRUE((*file)->DataSync().ok());
  ASSERT_TRUE((*file)->Sync().ok());
  EXPECT_EQ(synced, (std::vector<std::string>{"/d/wal", "/d/wal"}));
  // The data went to the wrapped Env and is durable there.
  ASSERT_TRUE(env.SyncDir("/d").ok());
  disk.Crash();
  auto reopened = disk.OpenFile("/d/wal", OpenMode::kReadOnly);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(*(*reopened)->Size(), 3u);
}

TEST(SyncTimingEnvTest, AFailedSyncIsReportedAndItsErrorPassesThrough) {
  FaultInjectionEnv disk(1);
  ErrorInjectionEnv failing(&disk);
  int reports = 0;
  SyncTimingEnv env(&failing, [&](const std::string&, absl::Duration) { ++reports; });
  ASSERT_TRUE(env.CreateDir("/d").ok());
  auto file = env.OpenFile("/d/wal", OpenMode::kCreate);
  ASSERT_TRUE(file.ok());
  failing.FailSyncs();
  absl::Status status = (*file)->DataSync();
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(reports, 1);
}

}  // namespace
}  // namespace raftkv::io
