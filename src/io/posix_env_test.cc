// PosixEnv against a real temporary directory.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "io/env.h"

namespace raftkv::io {
namespace {

class PosixEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/raftkv_posix_env_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    auto names = env_->ListDir(dir_);
    if (names.ok()) {
      for (const std::string& n : *names) (void)env_->Remove(JoinPath(dir_, n));
    }
    ::rmdir(dir_.c_str());
  }

  Env* env_ = Env::Default();
  std::string dir_;
};

TEST_F(PosixEnvTest, WrittenBytesReadBackAfterAppendAndWriteAt) {
  const std::string path = JoinPath(dir_, "f");
  auto file = env_->OpenFile(path, OpenMode::kCreateExclusive);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE((*file)->Append("hello ").ok());
  ASSERT_TRUE((*file)->Append("world").ok());
  ASSERT_TRUE((*file)->WriteAt(0, "J").ok());
  ASSERT_TRUE((*file)->DataSync().ok());
  EXPECT_EQ(*ReadFileToString(env_, path), "Jello world");
}

TEST_F(PosixEnvTest, GatherWriteAtWritesTheConcatenationOfThePieces) {
  const std::string path = JoinPath(dir_, "f");
  auto file = env_->OpenFile(path, OpenMode::kCreate);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE((*file)->Append("0123456789").ok());
  const std::string_view pieces[] = {"ab", "", "cdef", "g"};
  ASSERT_TRUE((*file)->GatherWriteAt(8, pieces).ok());
  EXPECT_EQ(*(*file)->Size(), 15u);
  ASSERT_TRUE((*file)->Append("!").ok());  // Append goes after the gathered bytes
  EXPECT_EQ(*ReadFileToString(env_, path), "01234567abcdefg!");
}

TEST_F(PosixEnvTest, GatherWriteAtTakesMorePiecesThanOnePwritevAccepts) {
  const std::string path = JoinPath(dir_, "f");
  auto file = env_->OpenFile(path, OpenMode::kCreate);
  ASSERT_TRUE(file.ok()) << file.status();
  // More than IOV_MAX (1024) pieces of uneven sizes, so the write goes out in several calls.
  std::vector<std::string> storage;
  std::string expected;
  for (int i = 0; i < 2500; ++i) {
    storage.push_back(std::string(static_cast<size_t>(i % 7), static_cast<char>('a' + i % 26)));
    expected += storage.back();
  }
  const std::vector<std::string_view> pieces(storage.begin(), storage.end());
  ASSERT_TRUE((*file)->GatherWriteAt(0, pieces).ok());
  EXPECT_EQ(*(*file)->Size(), expected.size());
  EXPECT_EQ(*ReadFileToString(env_, path), expected);
}

TEST_F(PosixEnvTest, AllocateGrowsWithZerosAndTruncateShrinks) {
  const std::string path = JoinPath(dir_, "f");
  auto file = env_->OpenFile(path, OpenMode::kCreate);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("abc").ok());
  ASSERT_TRUE((*file)->Allocate(4096).ok());
  EXPECT_EQ(*(*file)->Size(), 4096u);
  const std::string data = *ReadFileToString(env_, path);
  EXPECT_EQ(data.substr(0, 3), "abc");
  EXPECT_TRUE(std::all_of(data.begin() + 3, data.end(), [](char c) { return c == 0; }));
  ASSERT_TRUE((*file)->Truncate(2).ok());
  EXPECT_EQ(*ReadFileToString(env_, path), "ab");
}

TEST_F(PosixEnvTest, ExclusiveCreateOfExistingFileFailsWithAlreadyExists) {
  const std::string path = JoinPath(dir_, "f");
  ASSERT_TRUE(env_->OpenFile(path, OpenMode::kCreate).ok());
  auto again = env_->OpenFile(path, OpenMode::kCreateExclusive);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(PosixEnvTest, MissingFileErrorNamesThePathAndTheCause) {
  auto file = env_->OpenFile(JoinPath(dir_, "missing"), OpenMode::kReadOnly);
  ASSERT_EQ(file.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(file.status().message().find("missing"), std::string_view::npos);
  EXPECT_NE(file.status().message().find("No such file"), std::string_view::npos);
}

TEST_F(PosixEnvTest, RenameListRemoveAndSyncDir) {
  const std::string a = JoinPath(dir_, "a"), b = JoinPath(dir_, "b");
  ASSERT_TRUE(env_->OpenFile(a, OpenMode::kCreate).ok());
  ASSERT_TRUE(env_->Rename(a, b).ok());
  ASSERT_TRUE(env_->SyncDir(dir_).ok());
  EXPECT_EQ(*env_->ListDir(dir_), std::vector<std::string>{"b"});
  EXPECT_FALSE(*env_->Exists(a));
  ASSERT_TRUE(env_->Remove(b).ok());
  EXPECT_TRUE(env_->ListDir(dir_)->empty());
}

TEST_F(PosixEnvTest, SecondLockOnTheSameFileFailsUntilTheFirstIsReleased) {
  const std::string path = JoinPath(dir_, "LOCK");
  auto first = env_->LockFile(path);
  ASSERT_TRUE(first.ok());
  auto second = env_->LockFile(path);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  first->reset();
  EXPECT_TRUE(env_->LockFile(path).ok());
}

TEST_F(PosixEnvTest, CreateDirMakesMissingParents) {
  const std::string nested = JoinPath(dir_, "x/y");
  ASSERT_TRUE(env_->CreateDir(nested).ok());
  EXPECT_TRUE(*env_->Exists(nested));
  ::rmdir(nested.c_str());
  ::rmdir(JoinPath(dir_, "x").c_str());
}

}  // namespace
}  // namespace raftkv::io
