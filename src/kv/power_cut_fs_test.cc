// PowerCutFileSystem on its own: what a power cut keeps of data and of names, through the
// rocksdb::FileSystem calls RocksDB makes. These show that the model drops what it must, so that
// the engine tests on it (rocksdb_power_cut_test.cc) can fail.
#include "kv/power_cut_fs.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "kv/engine_test_util.h"

namespace raftkv::kv::testing {
namespace {

using rocksdb::FileOptions;
using rocksdb::IOOptions;

// What is on disk now, read around the wrapper; nullopt when there is no such file.
std::optional<std::string> OnDisk(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// A file written through `fs`, its data synced, closed.
void WriteSynced(PowerCutFileSystem& fs, const std::string& path, const std::string& bytes) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  ASSERT_TRUE(fs.NewWritableFile(path, FileOptions(), &file, nullptr).ok());
  ASSERT_TRUE(file->Append(bytes, IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Sync(IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Close(IOOptions(), nullptr).ok());
}

void FsyncDirectory(PowerCutFileSystem& fs, const std::string& dir) {
  std::unique_ptr<rocksdb::FSDirectory> directory;
  ASSERT_TRUE(fs.NewDirectory(dir, IOOptions(), &directory, nullptr).ok());
  ASSERT_TRUE(directory->Fsync(IOOptions(), nullptr).ok());
}

TEST(PowerCutFileSystem, AFileKeepsItsSyncedBytesAndLosesTheRest) {
  TempDir dir;
  PowerCutFileSystem fs;
  const std::string path = dir.path() + "/log";
  std::unique_ptr<rocksdb::FSWritableFile> file;
  ASSERT_TRUE(fs.NewWritableFile(path, FileOptions(), &file, nullptr).ok());
  FsyncDirectory(fs, dir.path());
  ASSERT_TRUE(file->Append("synced;", IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Sync(IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Append("fsynced;", IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Fsync(IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Append("range-synced;", IOOptions(), nullptr).ok());
  // sync_file_range persists no metadata and flushes no device cache: not a sync.
  ASSERT_TRUE(file->RangeSync(0, 100, IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Append("flushed and closed", IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Flush(IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Close(IOOptions(), nullptr).ok());
  file.reset();
  EXPECT_EQ(OnDisk(path), "synced;fsynced;range-synced;flushed and closed");

  ASSERT_EQ(fs.PowerCut(), absl::OkStatus());
  EXPECT_EQ(OnDisk(path), "synced;fsynced;");
}

// POSIX: a new name is durable once its directory is fsynced, whatever was synced in the file.
TEST(PowerCutFileSystem, ANewFileIsGoneUnlessItsDirectoryWasFsyncedAfterItsCreation) {
  TempDir dir;
  PowerCutFileSystem fs;
  WriteSynced(fs, dir.path() + "/kept", "k");
  FsyncDirectory(fs, dir.path());
  WriteSynced(fs, dir.path() + "/lost", "l");
  ASSERT_TRUE(OnDisk(dir.path() + "/lost").has_value());

  ASSERT_EQ(fs.PowerCut(), absl::OkStatus());
  EXPECT_EQ(OnDisk(dir.path() + "/kept"), "k");
  EXPECT_EQ(OnDisk(dir.path() + "/lost"), std::nullopt);
}

// How RocksDB replaces CURRENT (a synced temporary file renamed over it) and removes obsolete
// files: without a directory fsync afterwards, a power cut brings the old names back.
TEST(PowerCutFileSystem, RenamesAndRemovalsSinceTheLastDirectoryFsyncAreUndone) {
  TempDir dir;
  PowerCutFileSystem fs;
  const std::string current = dir.path() + "/CURRENT";
  const std::string temporary = dir.path() + "/000009.dbtmp";
  const std::string obsolete = dir.path() + "/000004.log";
  std::ofstream(obsolete) << "there before";  // a file the wrapper never wrote: durable whole
  WriteSynced(fs, current, "MANIFEST-000001\n");
  FsyncDirectory(fs, dir.path());
  WriteSynced(fs, temporary, "MANIFEST-000009\n");
  ASSERT_TRUE(fs.RenameFile(temporary, current, IOOptions(), nullptr).ok());
  ASSERT_TRUE(fs.DeleteFile(obsolete, IOOptions(), nullptr).ok());
  EXPECT_EQ(OnDisk(current), "MANIFEST-000009\n");

  ASSERT_EQ(fs.PowerCut(), absl::OkStatus());
  EXPECT_EQ(OnDisk(current), "MANIFEST-000001\n");
  EXPECT_EQ(OnDisk(temporary), std::nullopt);
  EXPECT_EQ(OnDisk(obsolete), "there before");
}

TEST(PowerCutFileSystem, RenamesAndRemovalsFollowedByADirectoryFsyncSurvive) {
  TempDir dir;
  PowerCutFileSystem fs;
  const std::string current = dir.path() + "/CURRENT";
  const std::string temporary = dir.path() + "/000009.dbtmp";
  const std::string obsolete = dir.path() + "/000004.log";
  std::ofstream(obsolete) << "there before";
  WriteSynced(fs, current, "MANIFEST-000001\n");
  FsyncDirectory(fs, dir.path());
  WriteSynced(fs, temporary, "MANIFEST-000009\n");
  ASSERT_TRUE(fs.RenameFile(temporary, current, IOOptions(), nullptr).ok());
  ASSERT_TRUE(fs.DeleteFile(obsolete, IOOptions(), nullptr).ok());
  FsyncDirectory(fs, dir.path() + "/");  // spelled differently, the same directory

  ASSERT_EQ(fs.PowerCut(), absl::OkStatus());
  EXPECT_EQ(OnDisk(current), "MANIFEST-000009\n");
  EXPECT_EQ(OnDisk(temporary), std::nullopt);
  EXPECT_EQ(OnDisk(obsolete), std::nullopt);
}

// A power cut while the database still runs would leave its open files pointing at nothing.
TEST(PowerCutFileSystem, APowerCutIsRefusedWhileAFileIsOpenForWriting) {
  TempDir dir;
  PowerCutFileSystem fs;
  std::unique_ptr<rocksdb::FSWritableFile> file;
  ASSERT_TRUE(fs.NewWritableFile(dir.path() + "/open", FileOptions(), &file, nullptr).ok());
  EXPECT_EQ(fs.PowerCut().code(), absl::StatusCode::kFailedPrecondition);
  file.reset();
  EXPECT_EQ(fs.PowerCut(), absl::OkStatus());
}

}  // namespace
}  // namespace raftkv::kv::testing
