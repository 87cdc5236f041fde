// The checker against porcupine's labelled histories (testdata/porcupine/): every file with an
// expected verdict must get exactly that verdict. Prints the time per file.
#include <fstream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "fmt/core.h"
#include "gtest/gtest.h"
#include "lincheck/checker.h"
#include "lincheck/history_file.h"
#include "lincheck/text_scan.h"

namespace raftkv::lincheck {
namespace {

const std::string kDataDir = RAFTKV_PORCUPINE_DIR;

struct LabelledFile {
  std::string path;                  // relative to kDataDir
  std::optional<bool> linearizable;  // nullopt: no verdict (`none`)
};

// Reads expected_verdicts.csv: `file,expected_linearizable,checked_by_porcupine_tests`.
std::vector<LabelledFile> ReadLabels() {
  std::ifstream csv(kDataDir + "/expected_verdicts.csv");
  std::vector<LabelledFile> files;
  std::string line;
  std::getline(csv, line);  // header
  while (std::getline(csv, line)) {
    const std::vector<std::string_view> fields = internal::Split(line, ',', false);
    if (fields.size() < 2) continue;
    LabelledFile file{std::string(fields[0]), std::nullopt};
    if (fields[1] == "true") file.linearizable = true;
    if (fields[1] == "false") file.linearizable = false;
    files.push_back(file);
  }
  return files;
}

// Checks one file and prints how long the check took.
CheckResult CheckFile(const std::string& relative_path, bool partition_by_key) {
  const absl::StatusOr<HistoryFile> file = ReadHistoryFile(kDataDir + "/" + relative_path);
  EXPECT_TRUE(file.ok()) << file.status();
  if (!file.ok()) return {};
  const auto model = ModelForFormat(file->format, partition_by_key);
  const CheckResult result = CheckHistory(*model, file->history);
  fmt::print("[   time   ] {} ({}, {} operations): {} in {:.4f} s\n", relative_path, model->Name(),
             file->history.size(), VerdictName(result.verdict),
             absl::ToDoubleSeconds(result.elapsed));
  return result;
}

TEST(PorcupineLabelsTest, EveryHistoryFileIsListed) {
  EXPECT_EQ(ReadLabels().size(), 109u);  // 103 Jepsen logs + 6 key-value histories
}

// Checks every labelled file whose path starts with `prefix` (one process for many files keeps
// the suite fast under sanitizers); files without a verdict must still parse.
void ExpectLabelledVerdicts(std::string_view prefix) {
  int checked = 0;
  for (const LabelledFile& labelled : ReadLabels()) {
    if (!labelled.path.starts_with(prefix)) continue;
    SCOPED_TRACE(labelled.path);
    if (!labelled.linearizable.has_value()) {
      const absl::StatusOr<HistoryFile> file = ReadHistoryFile(kDataDir + "/" + labelled.path);
      EXPECT_TRUE(file.ok()) << file.status();
      continue;
    }
    const CheckResult result = CheckFile(labelled.path, /*partition_by_key=*/true);
    EXPECT_EQ(result.verdict,
              *labelled.linearizable ? Verdict::kLinearizable : Verdict::kNotLinearizable);
    ++checked;
  }
  EXPECT_GT(checked, 0) << "no labelled file matches " << prefix;
}

TEST(PorcupineVerdictTest, JepsenRegisterHistories) { ExpectLabelledVerdicts("jepsen/"); }
TEST(PorcupineVerdictTest, KeyValueHistoriesWithOneClient) { ExpectLabelledVerdicts("kv/c01-"); }
TEST(PorcupineVerdictTest, KeyValueHistoriesWithTenClients) { ExpectLabelledVerdicts("kv/c10-"); }
TEST(PorcupineVerdictTest, LinearizableKeyValueHistoryWithFiftyClients) {
  ExpectLabelledVerdicts("kv/c50-ok");
}
TEST(PorcupineVerdictTest, NonLinearizableKeyValueHistoryWithFiftyClients) {
  ExpectLabelledVerdicts("kv/c50-bad");
}

// The whole-map model does not split by key; it must reach the same verdicts, only slower.
TEST(PorcupineWholeMapTest, C01OkIsLinearizable) {
  EXPECT_EQ(CheckFile("kv/c01-ok.txt", /*partition_by_key=*/false).verdict, Verdict::kLinearizable);
}

TEST(PorcupineWholeMapTest, C01BadIsNotLinearizable) {
  EXPECT_EQ(CheckFile("kv/c01-bad.txt", /*partition_by_key=*/false).verdict,
            Verdict::kNotLinearizable);
}

bool SoakEnabled() {
  const char* soak = std::getenv("RAFTKV_SOAK");
  return soak != nullptr && std::string(soak) == "1";
}

TEST(PorcupineWholeMapTest, C10OkIsLinearizable) {
  if (!SoakEnabled()) GTEST_SKIP() << "slow without the per-key split; set RAFTKV_SOAK=1";
  EXPECT_EQ(CheckFile("kv/c10-ok.txt", /*partition_by_key=*/false).verdict, Verdict::kLinearizable);
}

TEST(PorcupineWholeMapTest, C10BadIsNotLinearizable) {
  if (!SoakEnabled()) GTEST_SKIP() << "slow without the per-key split; set RAFTKV_SOAK=1";
  EXPECT_EQ(CheckFile("kv/c10-bad.txt", /*partition_by_key=*/false).verdict,
            Verdict::kNotLinearizable);
}

}  // namespace
}  // namespace raftkv::lincheck
