// The consensus core and the node driver around it must stay pure state machines: no threads,
// locks, atomics, clocks, sleeps, files or sockets, and no unseeded randomness. This is what
// makes one seed replay a whole cluster, with the same loop the server runs (docs/raft.md,
// docs/architecture.md). The test scans their sources and names every offending line; tests
// and the test harness (testing/, *_test.cc, *_test_util.*) are exempt.
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace raftkv::raft {
namespace {

struct Rule {
  const char* pattern;
  const char* why;
};

// Each pattern is matched against code with comments and string literals removed.
const std::vector<Rule>& Rules() {
  static const std::vector<Rule> rules = {
      {R"(#\s*include\s*<(thread|mutex|shared_mutex|condition_variable|future|atomic|stop_token|semaphore|latch|barrier)>)",
       "threads and synchronization"},
      {R"(\bstd::(thread|jthread|mutex|recursive_mutex|shared_mutex|timed_mutex|lock_guard|unique_lock|scoped_lock|condition_variable|atomic|async|future|promise)\b)",
       "threads and synchronization"},
      {R"(\bpthread_\w+)", "threads"},
      {R"(absl/synchronization/|\babsl::(Mutex|MutexLock|Notification|CondVar)\b)",
       "threads and synchronization"},
      {R"(#\s*include\s*<(chrono|ctime|time\.h|sys/time\.h)>)", "clock"},
      {R"(\bstd::chrono\b|absl/time/|\babsl::(Now|Time|Duration|SleepFor)\b)", "clock"},
      {R"((^|[^\w.:>])(time|clock|clock_gettime|gettimeofday|localtime|gmtime)\s*\()", "clock"},
      {R"((^|[^\w.:>])(sleep|usleep|nanosleep)\s*\(|\bsleep_for\b|\bsleep_until\b)", "sleep"},
      {R"(#\s*include\s*<(fstream|filesystem|cstdio|stdio\.h|unistd\.h|fcntl\.h|sys/stat\.h|dirent\.h)>)",
       "files"},
      {R"(\bstd::(ofstream|ifstream|fstream|filesystem)\b|\b(fopen|fwrite|fread|fsync|fdatasync)\s*\()",
       "files"},
      {R"((^|[^\w.:>])(open|creat|unlink|rename)\s*\()", "files"},
      {R"(#\s*include\s*<(sys/socket\.h|netinet/\w+\.h|arpa/inet\.h|netdb\.h|poll\.h|sys/epoll\.h)>)",
       "sockets"},
      {R"((^|[^\w.:>])(socket|connect|bind|listen|accept|send|recv)\s*\()", "sockets"},
      {R"(\bstd::random_device\b|\bsrand\s*\(|(^|[^\w.>])rand\s*\(\s*\))", "unseeded randomness"},
      {R"(\bgetenv\s*\()", "environment"},
  };
  return rules;
}

// Removes // and /* */ comments and the contents of string and character literals, keeping
// line structure. `in_block` carries an open block comment across lines.
std::string StripLine(const std::string& line, bool& in_block) {
  std::string out;
  for (size_t i = 0; i < line.size(); ++i) {
    if (in_block) {
      if (line.compare(i, 2, "*/") == 0) {
        in_block = false;
        ++i;
      }
      continue;
    }
    if (line.compare(i, 2, "//") == 0) break;
    if (line.compare(i, 2, "/*") == 0) {
      in_block = true;
      ++i;
      continue;
    }
    char c = line[i];
    if ((c == '"' || c == '\'') && !(c == '"' && out.rfind("#include", 0) == 0)) {
      // Skip the literal (raw strings are not used in the core).
      size_t j = i + 1;
      while (j < line.size() && line[j] != c) j += line[j] == '\\' ? 2 : 1;
      out += c;
      out += c;
      i = j;
      continue;
    }
    out += c;
  }
  return out;
}

// Words at least one of which appears in any line a rule can match; lines without them skip
// the (slow) regular expressions.
bool MayOffend(const std::string& code_line) {
  static const char* const kHints[] = {"#",      "std::", "pthread", "absl",    "time",   "clock",
                                       "sleep",  "open",  "creat",   "unlink",  "rename", "fwrite",
                                       "fread",  "sync",  "socket",  "connect", "bind",   "listen",
                                       "accept", "send",  "recv",    "rand",    "getenv"};
  for (const char* hint : kHints) {
    if (code_line.find(hint) != std::string::npos) return true;
  }
  return false;
}

// The rules a single line of code breaks (what it is for, when it breaks one).
std::vector<std::string> Violations(const std::string& code_line) {
  static const std::vector<std::regex> compiled = [] {
    std::vector<std::regex> out;
    for (const Rule& rule : Rules()) out.emplace_back(rule.pattern, std::regex::optimize);
    return out;
  }();
  std::vector<std::string> found;
  if (!MayOffend(code_line)) return found;
  for (size_t i = 0; i < compiled.size(); ++i) {
    if (std::regex_search(code_line, compiled[i])) found.push_back(Rules()[i].why);
  }
  return found;
}

std::vector<std::string> ScanFile(const std::filesystem::path& path) {
  std::vector<std::string> found;
  std::ifstream in(path);
  std::string line;
  bool in_block = false;
  for (int number = 1; std::getline(in, line); ++number) {
    std::string code = StripLine(line, in_block);
    for (const std::string& why : Violations(code)) {
      found.push_back(path.string() + ":" + std::to_string(number) + ": " + why + ": " + line);
    }
  }
  return found;
}

bool IsCoreSource(const std::filesystem::path& path) {
  std::string name = path.filename().string();
  std::string ext = path.extension().string();
  if (ext != ".h" && ext != ".cc") return false;
  // Tests (foo_test.cc, paper_test_*.cc) may use whatever they need.
  if (std::regex_search(name, std::regex(R"((^|_)test(_|\.))"))) return false;
  for (const auto& part : path) {
    if (part == "testing" || part == "testdata") return false;
  }
  return true;
}

TEST(PurityTest, ScannerFlagsForbiddenLines) {
  EXPECT_FALSE(Violations("#include <mutex>").empty());
  EXPECT_FALSE(Violations("  std::thread worker([] {});").empty());
  EXPECT_FALSE(Violations("auto now = std::chrono::steady_clock::now();").empty());
  EXPECT_FALSE(Violations("  time_t t = time(nullptr);").empty());
  EXPECT_FALSE(Violations("  FILE* f = fopen(path, \"w\");").empty());
  EXPECT_FALSE(Violations("  std::ofstream out(path);").empty());
  EXPECT_FALSE(Violations("  int fd = socket(AF_INET, SOCK_STREAM, 0);").empty());
  EXPECT_FALSE(Violations("  sleep(1);").empty());
  EXPECT_FALSE(Violations("  std::atomic<int> n;").empty());
  EXPECT_FALSE(Violations("  int r = rand();").empty());
  EXPECT_FALSE(Violations("  int r = std::rand();").empty());
  EXPECT_FALSE(Violations("  srand(42);").empty());
}

TEST(PurityTest, ScannerAcceptsOrdinaryCoreCode) {
  EXPECT_TRUE(Violations("  uint64_t term = log_.Term(index);").empty());
  EXPECT_TRUE(Violations("  election_elapsed_++;").empty());
  EXPECT_TRUE(Violations("  msgs_.push_back(std::move(m));  ").empty());
  EXPECT_TRUE(Violations("  r->Send(std::move(m));").empty());
  EXPECT_TRUE(Violations("  uint64_t t = rand_.Uniform(n);").empty());
  EXPECT_TRUE(Violations("  base::Rand rand(config.random_seed);").empty());
  bool in_block = false;
  EXPECT_TRUE(Violations(StripLine("  x = 1;  // never calls time() here", in_block)).empty());
  EXPECT_TRUE(Violations(StripLine("  Log(\"no std::thread in the core\");", in_block)).empty());
}

TEST(PurityTest, TestsAndHarnessAreExempt) {
  EXPECT_FALSE(IsCoreSource("src/raft/raft_log_test.cc"));
  EXPECT_FALSE(IsCoreSource("src/raft/paper_test_flow.cc"));
  EXPECT_FALSE(IsCoreSource("src/raft/testing/cluster.cc"));
  EXPECT_TRUE(IsCoreSource("src/raft/raft_leader.cc"));
  EXPECT_TRUE(IsCoreSource("include/raftkv/raft/raw_node.h"));
  EXPECT_FALSE(IsCoreSource("src/raft/CMakeLists.txt"));
}

TEST(PurityTest, CoreAndDriverSourcesUseNoThreadsClocksFilesOrSockets) {
  const std::filesystem::path root = RAFTKV_SOURCE_ROOT;
  std::vector<std::string> offences;
  int scanned = 0;
  for (const char* dir : {"src/raft", "include/raftkv/raft", "src/node"}) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root / dir)) {
      if (!entry.is_regular_file() || !IsCoreSource(entry.path())) continue;
      ++scanned;
      for (auto& o : ScanFile(entry.path())) offences.push_back(std::move(o));
    }
  }
  EXPECT_GT(scanned, 5) << "the core's sources were not found under " << root;
  std::ostringstream report;
  for (const auto& o : offences) report << "\n  " << o;
  EXPECT_TRUE(offences.empty()) << "the core and the driver must stay pure:" << report.str();
}

}  // namespace
}  // namespace raftkv::raft
