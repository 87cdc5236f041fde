// Runs the raftkv-wal binary on directories written by DurableStorage.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "io/env.h"
#include "storage/durable_storage.h"

namespace raftkv::storage {
namespace {

class InspectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/raftkv_wal_tool_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto s = DurableStorage::Open(io::Env::Default(), dir_, {.wal = {.segment_bytes = 4096}});
    ASSERT_TRUE(s.ok()) << s.status();
    std::vector<raftpb::Entry> entries;
    for (uint64_t i = 1; i <= 100; ++i) {
      raftpb::Entry e;
      e.set_index(i);
      e.set_term(3);
      e.set_data(std::string(40, 'x'));
      entries.push_back(e);
    }
    raftpb::HardState hs;
    hs.set_term(3);
    hs.set_vote(2);
    hs.set_commit(90);
    ASSERT_TRUE((*s)->Save(hs, entries, true).ok());
    ASSERT_TRUE((*s)->CreateSnapshot(50, nullptr, "state").ok());
  }
  void TearDown() override {
    auto names = io::Env::Default()->ListDir(dir_);
    if (names.ok()) {
      for (const std::string& n : *names) (void)io::Env::Default()->Remove(io::JoinPath(dir_, n));
    }
    ::rmdir(dir_.c_str());
  }

  // Runs the inspector; returns its exit status and fills *out with what it printed.
  int Inspect(std::string* out) {
    const std::string cmd = std::string(RAFTKV_WAL_BINARY) + " --records " + dir_ + " 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out->append(buf, n);
    const int status = ::pclose(p);
    return WEXITSTATUS(status);
  }

  std::string dir_;
};

TEST_F(InspectorTest, HealthyDirectoryListsSegmentsHardStateAndSnapshotsAndExitsZero) {
  std::string out;
  EXPECT_EQ(Inspect(&out), 0) << out;
  EXPECT_NE(out.find("wal-0000000000000001.log"), std::string::npos) << out;
  EXPECT_NE(out.find("term=3 vote=2 commit=90"), std::string::npos) << out;
  EXPECT_NE(out.find("term=3 index=100"), std::string::npos) << out;
  EXPECT_NE(out.find("index=50 term=3"), std::string::npos) << out;
  EXPECT_NE(out.find("(current)"), std::string::npos) << out;
}

TEST_F(InspectorTest, CorruptRecordInTheMiddleExitsWithTwoAndNamesTheOffset) {
  const std::string path = io::JoinPath(dir_, SegmentFileName(1));
  auto f = io::Env::Default()->OpenFile(path, io::OpenMode::kReadWrite);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->WriteAt(200, "\x55").ok());
  std::string out;
  EXPECT_EQ(Inspect(&out), 2) << out;
  EXPECT_NE(out.find("CORRUPT"), std::string::npos) << out;
  EXPECT_NE(out.find("offset"), std::string::npos) << out;
}

}  // namespace
}  // namespace raftkv::storage
