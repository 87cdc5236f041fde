// The exit status contract of raftkv-lincheck: 0 linearizable, 1 not, 2 bad input or usage.
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace {

using ::testing::HasSubstr;

struct ToolRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

ToolRun RunTool(const std::string& args) {
  const std::string command = std::string(RAFTKV_LINCHECK_BINARY) + " " + args + " 2>&1";
  ToolRun run;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) run.output.append(buffer, n);
  const int status = pclose(pipe);
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  return run;
}

std::string Porcupine(const std::string& name) {
  return std::string(RAFTKV_PORCUPINE_DIR) + "/" + name;
}

std::string WriteTempFile(const std::string& name, const std::string& contents) {
  const std::string path = testing::TempDir() + "/" + name;
  std::ofstream(path) << contents;
  return path;
}

TEST(LincheckToolTest, LinearizableHistoryExitsZero) {
  const ToolRun run = RunTool(Porcupine("jepsen/etcd_002.log"));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("verdict: linearizable"));
}

TEST(LincheckToolTest, NonLinearizableHistoryExitsOneAndNamesTheFailingKey) {
  const ToolRun run = RunTool(Porcupine("kv/c01-bad.txt"));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, HasSubstr("verdict: not linearizable"));
  EXPECT_THAT(run.output, HasSubstr("failing partition: key \""));
}

TEST(LincheckToolTest, OwnFormatWithStaleReadExitsOne) {
  const std::string path = WriteTempFile("stale.history",
                                         "# raftkv-history v1\n"
                                         "1 1 invoke put \"k\" \"new\"\n"
                                         "2 1 ok put \"k\"\n"
                                         "3 2 invoke get \"k\"\n"
                                         "4 2 ok get \"k\" nil\n");
  const ToolRun run = RunTool(path);
  EXPECT_EQ(run.exit_code, 1) << run.output;
}

TEST(LincheckToolTest, MalformedFileExitsTwoNamingFileAndLine) {
  const std::string path = WriteTempFile("malformed.history",
                                         "# raftkv-history v1\n"
                                         "1 1 invoke put \"k\"\n");
  const ToolRun run = RunTool("--format raftkv " + path);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_THAT(run.output, HasSubstr(path + ":2:"));
}

TEST(LincheckToolTest, MissingFileExitsTwo) {
  const ToolRun run = RunTool(testing::TempDir() + "/no-such-history");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_THAT(run.output, HasSubstr("cannot open"));
}

TEST(LincheckToolTest, UsageErrorExitsTwo) {
  EXPECT_EQ(RunTool("--format yaml " + Porcupine("jepsen/etcd_002.log")).exit_code, 2);
  EXPECT_EQ(RunTool("").exit_code, 2);
}

}  // namespace
