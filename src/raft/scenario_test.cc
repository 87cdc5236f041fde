// Golden scenario tests of the consensus core: every file in src/raft/testdata/ is a script in
// the scenario language (raft/testing/scenario.h) with the output it must produce. Set
// RAFTKV_REWRITE_GOLDEN=1 to rewrite the files with the current output, then review the diff
// against the paper before committing it.
#include "raft/testing/scenario.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace raftkv::raft::testing {
namespace {

std::vector<std::string> ScenarioFiles() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(RAFTKV_RAFT_TESTDATA_DIR)) {
    if (entry.path().extension() == ".txt") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class ScenarioTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ScenarioTest, MatchesGoldenOutput) {
  const std::filesystem::path path =
      std::filesystem::path(RAFTKV_RAFT_TESTDATA_DIR) / (GetParam() + ".txt");
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "cannot read " << path;
  std::stringstream text;
  text << in.rdbuf();
  ScenarioResult result = RunScenario(text.str());
  const char* rewrite = std::getenv("RAFTKV_REWRITE_GOLDEN");
  if (rewrite != nullptr && std::string(rewrite) == "1") {
    std::ofstream out(path, std::ios::trunc);
    out << result.actual;
    ASSERT_TRUE(out.good()) << "cannot write " << path;
    return;
  }
  EXPECT_TRUE(result.matched) << path.string() << " differs:\n" << result.diff;
}

INSTANTIATE_TEST_SUITE_P(Raft, ScenarioTest, ::testing::ValuesIn(ScenarioFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace raftkv::raft::testing
