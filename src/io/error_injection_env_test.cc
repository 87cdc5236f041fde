#include "io/error_injection_env.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "io/fault_injection_env.h"

namespace raftkv::io {
namespace {

class ErrorInjectionEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.CreateDir("/d").ok());
    auto f = env_.OpenFile("/d/f", OpenMode::kCreate);
    ASSERT_TRUE(f.ok());
    file_ = std::move(*f);
  }

  FaultInjectionEnv base_{1};
  ErrorInjectionEnv env_{&base_};
  std::unique_ptr<File> file_;
};

TEST_F(ErrorInjectionEnvTest, NthWriteFailsWithEnospcOnceAndHasNoEffect) {
  env_.FailNth(EnvOp::kWrite, 2, ENOSPC);
  EXPECT_TRUE(file_->Append("a").ok());
  const absl::Status s = file_->Append("b");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("No space left on device"), std::string_view::npos);
  EXPECT_NE(s.message().find("/d/f"), std::string_view::npos);
  EXPECT_TRUE(file_->Append("c").ok());
  EXPECT_EQ(*base_.Contents("/d/f"), "ac");
}

TEST_F(ErrorInjectionEnvTest, GatherWriteAtCountsAsAWriteAndFailsWithoutEffect) {
  env_.FailNth(EnvOp::kWrite, 1, ENOSPC);
  const std::string_view pieces[] = {"a", "b"};
  const absl::Status s = file_->GatherWriteAt(0, pieces);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("pwritev /d/f"), std::string_view::npos);
  EXPECT_EQ(*base_.Contents("/d/f"), "");
  EXPECT_TRUE(file_->GatherWriteAt(0, pieces).ok());
  EXPECT_EQ(*base_.Contents("/d/f"), "ab");
  EXPECT_EQ(env_.count(EnvOp::kWrite), 2u);
}

TEST_F(ErrorInjectionEnvTest, FailSyncsFailsEveryLaterSyncWithEio) {
  env_.FailSyncs();
  EXPECT_FALSE(file_->DataSync().ok());
  EXPECT_FALSE(file_->Sync().ok());
  EXPECT_EQ(base_.file_syncs(), 0u);
}

TEST_F(ErrorInjectionEnvTest, AnyCountsEveryKindOfOperation) {
  env_.FailNth(EnvOp::kAny, 3, EIO);
  EXPECT_TRUE(file_->Append("a").ok());
  EXPECT_TRUE(env_.SyncDir("/d").ok());
  EXPECT_FALSE(env_.Rename("/d/f", "/d/g").ok());
  EXPECT_TRUE(*base_.Exists("/d/f"));
}

TEST_F(ErrorInjectionEnvTest, ClearFailuresDisarmsRules) {
  env_.FailAll(EnvOp::kWrite, EIO);
  EXPECT_FALSE(file_->Append("a").ok());
  env_.ClearFailures();
  EXPECT_TRUE(file_->Append("a").ok());
  EXPECT_EQ(env_.count(EnvOp::kWrite), 2u);
}

}  // namespace
}  // namespace raftkv::io
