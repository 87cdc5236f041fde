// The fault harness of real processes: a cluster of raftkv-server processes, clients recording a
// linearizability history, and a seeded nemesis, then healing, convergence and the checks.
//
//   1. Network: one network namespace per member joined by a bridge (NamespaceNetwork), or, when
//      that is impossible here (not root, namespaces refused), every member on 127.0.0.1 with
//      process faults only. The report and the log say which mode ran and why.
//   2. Start the members and wait for a leader; start the clients (KvWorkload).
//   3. For `duration`: the next step of the seeded schedule (NemesisSchedule): make the fault,
//      hold it, heal it, pause.
//   4. Stop the clients, heal everything, resume and restart every member, wait for a leader.
//   5. Every member reaches the same revision and HashKV agrees there (CheckConvergence).
//   6. The history is checked for linearizability against the key-value model.
//
// Everything (processes, namespaces, the bridge) is torn down when the run ends, whatever
// happened; the run directory (members' data and logs, the history, harness.log) is kept when the
// run failed.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "convergence.h"
#include "kv_workload.h"
#include "lincheck/checker.h"
#include "nemesis.h"

namespace raftkv::faults {

enum class NetworkMode {
  kAuto,        // namespaces if possible, else loopback
  kNamespaces,  // namespaces or fail
  kLoopback,    // 127.0.0.1, process faults only
};
std::string_view NetworkModeName(NetworkMode mode);  // "auto", "namespaces", "loopback"

struct HarnessOptions {
  int members = 3;
  uint64_t seed = 1;
  // The nemesis phase; setup, healing and the checks come on top.
  absl::Duration duration = absl::Seconds(60);
  // Partitions are left out in loopback mode.
  std::vector<NemesisKind> nemeses = AllNemeses();
  ScheduleTiming timing;
  // Its seed is replaced by `seed`.
  WorkloadOptions workload;
  NetworkMode mode = NetworkMode::kAuto;
  std::string server_path;
  // The run directory is made under it.
  std::string work_dir = "/tmp";
  // Check the history after every step and stop the nemesis at the first violation (for the
  // teeth test, which expects one).
  bool stop_at_violation = false;
  // The linearizability checker's budget; running out is a failure (verdict "unknown").
  absl::Duration check_timeout = absl::Minutes(5);
  bool keep_run_dir = false;
  // The run is meant to find a violation (the teeth test): it succeeds when the cluster is sound
  // (no problem, converged, equal hashes) and the history is not linearizable.
  bool expect_violation = false;
};

struct HarnessReport {
  NetworkMode mode = NetworkMode::kLoopback;  // the mode that ran
  std::string mode_note;                      // why loopback, or what the network was
  std::string run_dir;
  std::string replay;  // the command line that replays this run's schedule
  // Anything that makes the run fail besides the verdict: setup, healing, convergence.
  std::vector<std::string> problems;
  std::vector<NemesisKind> enabled;
  int steps = 0;
  std::map<NemesisKind, int> applied;
  bool stopped_at_violation = false;
  WorkloadCounts counts;
  std::string workload_summary;
  ConvergenceResult convergence;
  lincheck::CheckResult check;
  std::string failure;       // the checker's account of a violation
  std::string history_path;  // the history in the project's format (raftkv-lincheck reads it)
  absl::Duration elapsed;

  bool linearizable() const { return check.verdict == lincheck::Verdict::kLinearizable; }
  // No problem, converged with equal hashes, and linearizable.
  bool passed() const;
  // No problem, converged with equal hashes, and not linearizable.
  bool found_expected_violation() const;
  std::string Describe() const;
};

HarnessReport RunFaultHarness(const HarnessOptions& options);

}  // namespace raftkv::faults
