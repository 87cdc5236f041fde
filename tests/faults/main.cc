// raftkv-fault-harness: the fault harness of real processes, for runs longer than the suite's.
//
//   raftkv-fault-harness --members 5 --duration 30m --seed 7
//
// Prints every nemesis step with a timestamp, then the verdict and a summary. Exit status: 0 the
// run passed (linearizable, converged, equal HashKV), 1 it failed, 2 bad usage. docs/testing.md
// describes the modes, the nemeses and how to replay a seed.
#include <cstdio>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "harness.h"

namespace {

constexpr int kExitPassed = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// "1s-4s": a range of durations.
bool ParseRangeFlag(const std::string& text, const char* flag, absl::Duration* lo,
                    absl::Duration* hi) {
  const std::vector<std::string> ends = absl::StrSplit(text, '-');
  if (ends.size() == 2 && absl::ParseDuration(ends[0], lo) && absl::ParseDuration(ends[1], hi) &&
      *lo >= absl::ZeroDuration() && *lo <= *hi) {
    return true;
  }
  std::fprintf(stderr, "raftkv-fault-harness: %s: '%s' is not a range such as 1s-4s\n", flag,
               text.c_str());
  return false;
}

bool ParseDurationFlag(const std::string& text, const char* flag, absl::Duration* out) {
  if (absl::ParseDuration(text, out) && *out >= absl::ZeroDuration()) return true;
  std::fprintf(stderr, "raftkv-fault-harness: %s: '%s' is not a duration such as 90s or 30m\n",
               flag, text.c_str());
  return false;
}

int Run(int argc, char** argv) {
  using raftkv::faults::HarnessOptions;
  using raftkv::faults::NetworkMode;
  CLI::App app{
      "Runs raftkv-server processes under seeded faults with clients checked for "
      "linearizability.\nExit status: 0 passed, 1 failed, 2 bad usage."};
  HarnessOptions options;
  options.server_path = RAFTKV_SERVER_PATH;
  std::string duration = "60s";
  std::string check_timeout = "10m";
  std::string op_timeout = "1s";
  std::string think_time = "10ms";
  std::string key_lifetime = "20s";
  std::string hold;
  std::string pause;
  std::string nemeses;
  std::string mode = "auto";
  app.add_option("--members", options.members, "Cluster size")
      ->check(CLI::IsMember({3, 5}))
      ->capture_default_str();
  app.add_option("--seed", options.seed, "Seed of the nemesis schedule and the clients")
      ->capture_default_str();
  app.add_option("--duration", duration, "Length of the nemesis phase (90s, 30m, 1h)")
      ->capture_default_str();
  app.add_option("--clients", options.workload.clients, "Client threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--keys", options.workload.keys, "Keys the clients share")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--key-lifetime", key_lifetime,
                 "Renew the keys this often, so each key's history stays short; 0: never")
      ->capture_default_str();
  app.add_option("--nemeses", nemeses,
                 "Comma-separated subset of: partition-halves, isolate-leader, "
                 "one-way-partition, kill-restart, pause-leader, transfer-leader, "
                 "replace-member (default: all)");
  app.add_option("--hold", hold, "How long each fault lasts, a range (default 1s-4s)");
  app.add_option("--pause", pause, "Calm after each heal, a range (default 500ms-1.5s)");
  app.add_flag("--stop-at-violation", options.stop_at_violation,
               "Check the history after every step; stop the nemesis at the first violation");
  app.add_flag("--serializable-reads", options.workload.serializable_reads,
               "Serializable gets (not linearizable under partitions: shows the checker's teeth)");
  app.add_option("--mode", mode, "auto: namespaces if possible; namespaces; loopback")
      ->check(CLI::IsMember({"auto", "namespaces", "loopback"}))
      ->capture_default_str();
  app.add_option("--server", options.server_path, "raftkv-server binary")->capture_default_str();
  app.add_option("--work-dir", options.work_dir, "Where the run directory is made")
      ->capture_default_str();
  app.add_option("--check-timeout", check_timeout, "Budget of the linearizability check")
      ->capture_default_str();
  app.add_option("--op-timeout", op_timeout, "Deadline of each client call")->capture_default_str();
  app.add_option("--think-time", think_time, "Pause between a client's operations")
      ->capture_default_str();
  app.add_flag("--keep", options.keep_run_dir, "Keep the run directory even when the run passes");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  if (!ParseDurationFlag(duration, "--duration", &options.duration) ||
      !ParseDurationFlag(check_timeout, "--check-timeout", &options.check_timeout) ||
      !ParseDurationFlag(op_timeout, "--op-timeout", &options.workload.op_timeout) ||
      !ParseDurationFlag(think_time, "--think-time", &options.workload.think_time) ||
      !ParseDurationFlag(key_lifetime, "--key-lifetime", &options.workload.key_lifetime)) {
    return kExitUsage;
  }
  if ((!hold.empty() &&
       !ParseRangeFlag(hold, "--hold", &options.timing.min_hold, &options.timing.max_hold)) ||
      (!pause.empty() &&
       !ParseRangeFlag(pause, "--pause", &options.timing.min_pause, &options.timing.max_pause))) {
    return kExitUsage;
  }
  if (!nemeses.empty()) {
    options.nemeses.clear();
    const std::vector<std::string> names = absl::StrSplit(nemeses, ',', absl::SkipWhitespace());
    for (const std::string& name : names) {
      std::optional<raftkv::faults::NemesisKind> kind = raftkv::faults::NemesisFromName(name);
      if (!kind.has_value()) {
        std::fprintf(stderr, "raftkv-fault-harness: --nemeses: unknown nemesis '%s'\n",
                     name.c_str());
        return kExitUsage;
      }
      options.nemeses.push_back(*kind);
    }
  }
  options.mode = mode == "namespaces" ? NetworkMode::kNamespaces
                 : mode == "loopback" ? NetworkMode::kLoopback
                                      : NetworkMode::kAuto;

  const raftkv::faults::HarnessReport report = raftkv::faults::RunFaultHarness(options);
  std::printf("\n%s\n%s\n", report.Describe().c_str(), report.passed() ? "PASSED" : "FAILED");
  return report.passed() ? kExitPassed : kExitFailed;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
