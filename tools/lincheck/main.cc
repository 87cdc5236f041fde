// raftkv-lincheck: is a recorded client history linearizable?
//
//   raftkv-lincheck [--format auto|jepsen|kv|raftkv] [--timeout-seconds N] FILE
//
// Exit status: 0 linearizable, 1 not linearizable, 2 bad input or usage, 3 undecided within
// the time budget. The formats and the output are described in docs/lincheck.md.
#include <cstdio>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/time/time.h"
#include "fmt/core.h"
#include "lincheck/checker.h"
#include "lincheck/history_file.h"

namespace {

constexpr int kExitLinearizable = 0;
constexpr int kExitNotLinearizable = 1;
constexpr int kExitBadInput = 2;
constexpr int kExitUnknown = 3;

int Run(int argc, char** argv) {
  using raftkv::lincheck::HistoryFormat;
  CLI::App app{
      "Checks a client history for linearizability.\n"
      "Exit status: 0 linearizable, 1 not linearizable, 2 bad input, 3 undecided in time."};
  std::string format_name = "auto";
  double timeout_seconds = 0;
  size_t context_ops = 10;
  bool whole_map = false;
  std::string path;
  app.add_option("--format", format_name, "History format")
      ->check(CLI::IsMember({"auto", "jepsen", "kv", "raftkv"}))
      ->capture_default_str();
  app.add_option("--timeout-seconds", timeout_seconds,
                 "Give up with verdict 'unknown' (exit 3) after this long; 0 = no limit")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--context", context_ops,
                 "Operations of the longest linearizable prefix to show on failure")
      ->capture_default_str();
  app.add_flag("--whole-map", whole_map,
               "Check a key-value history as one map instead of key by key (slow; same verdict)");
  app.add_option("FILE", path, "History file")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitBadInput;
  }

  const HistoryFormat format = *raftkv::lincheck::HistoryFormatFromName(format_name);
  absl::StatusOr<raftkv::lincheck::HistoryFile> file =
      raftkv::lincheck::ReadHistoryFile(path, format);
  if (!file.ok()) {
    fmt::print(stderr, "raftkv-lincheck: {}\n", std::string(file.status().message()));
    return kExitBadInput;
  }
  const auto model = raftkv::lincheck::ModelForFormat(file->format, !whole_map);
  raftkv::lincheck::CheckOptions options;
  if (timeout_seconds > 0) options.timeout = absl::Seconds(timeout_seconds);
  const raftkv::lincheck::CheckResult result =
      raftkv::lincheck::CheckHistory(*model, file->history, options);

  fmt::print("{}: {} format, {} model, {} operations in {} partition(s)\n", path,
             raftkv::lincheck::HistoryFormatName(file->format), model->Name(), file->history.size(),
             result.partitions);
  fmt::print("verdict: {} ({:.3f} ms, {} search nodes)\n",
             raftkv::lincheck::VerdictName(result.verdict),
             absl::ToDoubleMilliseconds(result.elapsed), result.nodes_expanded);
  switch (result.verdict) {
    case raftkv::lincheck::Verdict::kLinearizable:
      return kExitLinearizable;
    case raftkv::lincheck::Verdict::kNotLinearizable:
      fmt::print("{}", raftkv::lincheck::FormatFailure(*model, file->history, *result.failure,
                                                       context_ops));
      return kExitNotLinearizable;
    case raftkv::lincheck::Verdict::kUnknown:
      fmt::print("the search did not finish within {} s\n", timeout_seconds);
      return kExitUnknown;
  }
  return kExitUnknown;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
