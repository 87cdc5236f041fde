#include "harness.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "fault_cluster.h"
#include "lincheck/model.h"
#include "lincheck/raftkv_format.h"
#include "local_cluster.h"
#include "namespace_network.h"
#include "run_log.h"

namespace raftkv::faults {
namespace {

std::string ReplayCommand(const HarnessOptions& o) {
  std::vector<std::string> kinds;
  for (NemesisKind k : o.nemeses) kinds.emplace_back(NemesisName(k));
  std::string line = absl::StrCat("raftkv-fault-harness --members ", o.members, " --seed ", o.seed,
                                  " --duration ", absl::FormatDuration(o.duration), " --clients ",
                                  o.workload.clients, " --keys ", o.workload.keys);
  if (o.nemeses != AllNemeses()) absl::StrAppend(&line, " --nemeses ", absl::StrJoin(kinds, ","));
  const ScheduleTiming defaults;
  if (o.timing.min_hold != defaults.min_hold || o.timing.max_hold != defaults.max_hold) {
    absl::StrAppend(&line, " --hold ", absl::FormatDuration(o.timing.min_hold), "-",
                    absl::FormatDuration(o.timing.max_hold));
  }
  if (o.timing.min_pause != defaults.min_pause || o.timing.max_pause != defaults.max_pause) {
    absl::StrAppend(&line, " --pause ", absl::FormatDuration(o.timing.min_pause), "-",
                    absl::FormatDuration(o.timing.max_pause));
  }
  if (o.workload.key_lifetime != WorkloadOptions().key_lifetime) {
    absl::StrAppend(&line, " --key-lifetime ", absl::FormatDuration(o.workload.key_lifetime));
  }
  if (o.workload.serializable_reads) absl::StrAppend(&line, " --serializable-reads");
  if (o.stop_at_violation) absl::StrAppend(&line, " --stop-at-violation");
  if (o.mode != NetworkMode::kAuto)
    absl::StrAppend(&line, " --mode ", std::string(NetworkModeName(o.mode)));
  return line;
}

std::string Kinds(const std::vector<NemesisKind>& kinds) {
  std::vector<std::string> names;
  for (NemesisKind k : kinds) names.emplace_back(NemesisName(k));
  return absl::StrJoin(names, ", ");
}

// Steps 1 to 6 of harness.h, inside one scope so that the workload stops, the processes die and
// the namespaces go (in that order: the reverse of their declarations) before the caller decides
// about the run directory.
void Run(const HarnessOptions& options, RunLog& log, HarnessReport& report) {
  const int n = options.members;

  // 1. The network.
  std::unique_ptr<NamespaceNetwork> network;
  if (options.mode != NetworkMode::kLoopback) {
    NamespaceNetwork::RemoveStale(log);
    absl::StatusOr<std::unique_ptr<NamespaceNetwork>> made = NamespaceNetwork::Create(n, log);
    if (made.ok()) {
      network = *std::move(made);
    } else if (options.mode == NetworkMode::kNamespaces) {
      report.problems.push_back(
          absl::StrCat("network namespaces were required: ", made.status().message()));
      return;
    } else {
      report.mode_note =
          absl::StrCat("network namespaces unavailable (", made.status().message(), ")");
    }
  } else {
    report.mode_note = "loopback mode was asked for";
  }
  ClusterLayout layout;
  layout.server_path = options.server_path;
  layout.run_dir = report.run_dir;
  layout.token = absl::StrCat("fault-harness-", ::getpid(), "-", options.seed);
  if (network != nullptr) {
    report.mode = NetworkMode::kNamespaces;
    report.mode_note = absl::StrCat("one network namespace per member on bridge ",
                                    network->bridge(), " (", network->subnet(), ")");
    for (int i = 0; i < n; ++i) {
      layout.hosts.push_back(network->address(i));
      layout.client_ports.push_back(kNamespaceClientPort);
      layout.peer_ports.push_back(kNamespacePeerPort);
      layout.netns_paths.push_back(network->namespace_path(i));
    }
  } else {
    report.mode = NetworkMode::kLoopback;
    absl::StatusOr<std::vector<int>> ports = cli::PickFreePorts(2 * n);
    if (!ports.ok()) {
      report.problems.push_back(std::string(ports.status().message()));
      return;
    }
    for (int i = 0; i < n; ++i) {
      layout.hosts.push_back("127.0.0.1");
      layout.client_ports.push_back((*ports)[i]);
      layout.peer_ports.push_back((*ports)[n + i]);
      layout.netns_paths.push_back("");
    }
    report.mode_note += "; every member on 127.0.0.1, process faults only (no partitions)";
  }
  log.Print("mode: {}: {}", NetworkModeName(report.mode), report.mode_note);

  for (NemesisKind k : options.nemeses) {
    if (NeedsNetwork(k) && network == nullptr) continue;
    if (k == NemesisKind::kOneWayPartition && network != nullptr && !network->one_way_supported()) {
      continue;
    }
    report.enabled.push_back(k);
  }
  log.Print("nemeses: {}", Kinds(report.enabled));
  if (report.enabled.empty()) {
    report.problems.push_back("no nemesis can run in this mode");
    return;
  }

  // 2. The cluster and the clients.
  FaultCluster cluster(layout, log);
  if (absl::Status s = cluster.StartFounders(); !s.ok()) {
    report.problems.push_back(absl::StrCat("starting the cluster: ", s.message()));
    return;
  }
  absl::StatusOr<int> leader = cluster.FindLeader(absl::Seconds(60));
  if (!leader.ok()) {
    report.problems.push_back(absl::StrCat("after start: ", leader.status().message()));
    return;
  }
  log.Print("cluster: {} members, {} leads", n, cluster.name(*leader));
  WorkloadOptions workload_options = options.workload;
  workload_options.seed = options.seed;
  KvWorkload workload(workload_options, cluster.Endpoints());
  workload.Start();
  log.Print("clients: {} on {} keys (renewed every {}), {} reads, {} per call",
            workload_options.clients, workload_options.keys,
            absl::FormatDuration(workload_options.key_lifetime),
            workload_options.serializable_reads ? "serializable" : "linearizable",
            absl::FormatDuration(workload_options.op_timeout));

  // 3. The nemesis.
  NemesisSchedule schedule(options.seed, report.enabled, options.timing);
  Nemesis nemesis(cluster, network.get(), log);
  std::unique_ptr<lincheck::Model> model = lincheck::NewKvModel();
  const absl::Time end = absl::Now() + options.duration;
  while (absl::Now() < end) {
    const NemesisStep step = schedule.Next();
    if (absl::Status s = nemesis.Run(step); !s.ok()) {
      report.problems.push_back(absl::StrCat("step ", step.number, ": ", s.message()));
      break;
    }
    report.steps = step.number;
    if (options.stop_at_violation) {
      lincheck::CheckResult so_far =
          lincheck::CheckHistory(*model, workload.History(), {.timeout = absl::Seconds(30)});
      if (so_far.verdict == lincheck::Verdict::kNotLinearizable) {
        log.Print("the history after step {} is not linearizable; the nemesis stops", step.number);
        report.stopped_at_violation = true;
        break;
      }
    }
  }
  report.applied = nemesis.applied();
  workload.Stop();
  report.counts = workload.Counts();
  report.workload_summary = workload.Summary();
  log.Print("clients stopped: {}", report.workload_summary);

  // 4. Heal everything.
  if (network != nullptr) {
    if (absl::Status s = network->HealAll(); !s.ok()) {
      report.problems.push_back(absl::StrCat("healing the network: ", s.message()));
    }
  }
  if (absl::Status s = cluster.RestoreAll(); !s.ok()) {
    report.problems.push_back(absl::StrCat("restarting members: ", s.message()));
  }
  leader = cluster.FindLeader(absl::Seconds(60));
  if (!leader.ok()) {
    report.problems.push_back(absl::StrCat("after healing: ", leader.status().message()));
  } else {
    log.Print("healed: {} leads", cluster.name(*leader));
  }

  // 5. Convergence.
  report.convergence = CheckConvergence(cluster, log, absl::Seconds(60));
  if (!report.convergence.converged || !report.convergence.hashes_agree) {
    report.problems.push_back(report.convergence.detail);
  }

  // 6. Linearizability.
  const lincheck::History history = workload.History();
  report.history_path = report.run_dir + "/history.txt";
  if (absl::Status s = lincheck::WriteRaftkvHistoryFile(history, report.history_path); !s.ok()) {
    log.Print("could not write the history: {}", std::string(s.message()));
  }
  log.Print("checking {} operations for linearizability (budget {})", history.size(),
            absl::FormatDuration(options.check_timeout));
  report.check = lincheck::CheckHistory(*model, history, {.timeout = options.check_timeout});
  log.Print("verdict: {} ({} partitions, {} search nodes, {})",
            lincheck::VerdictName(report.check.verdict), report.check.partitions,
            report.check.nodes_expanded, absl::FormatDuration(report.check.elapsed));
  if (report.check.failure.has_value()) {
    report.failure = lincheck::FormatFailure(*model, history, *report.check.failure);
    log.Line("violation:\n" + report.failure);
  }
}

}  // namespace

std::string_view NetworkModeName(NetworkMode mode) {
  switch (mode) {
    case NetworkMode::kAuto:
      return "auto";
    case NetworkMode::kNamespaces:
      return "namespaces";
    case NetworkMode::kLoopback:
      return "loopback";
  }
  return "?";
}

bool HarnessReport::passed() const {
  return problems.empty() && convergence.converged && convergence.hashes_agree && linearizable();
}

bool HarnessReport::found_expected_violation() const {
  return problems.empty() && convergence.converged && convergence.hashes_agree &&
         check.verdict == lincheck::Verdict::kNotLinearizable;
}

std::string HarnessReport::Describe() const {
  std::vector<std::string> applied_text;
  for (const auto& [kind, count] : applied) {
    applied_text.push_back(absl::StrCat(std::string(NemesisName(kind)), " ", count));
  }
  std::string text =
      absl::StrCat("mode: ", std::string(NetworkModeName(mode)), " (", mode_note, ")\n",
                   "nemesis: ", steps, " steps; applied: ", absl::StrJoin(applied_text, ", "), "\n",
                   "clients: ", workload_summary, "\n", "convergence: ", convergence.detail, "\n",
                   "linearizability: ", std::string(lincheck::VerdictName(check.verdict)), " (",
                   check.partitions, " partitions, ", check.nodes_expanded, " search nodes, ",
                   absl::FormatDuration(check.elapsed), ")\n");
  for (const std::string& p : problems) absl::StrAppend(&text, "problem: ", p, "\n");
  if (!failure.empty()) absl::StrAppend(&text, "violation:\n", failure, "\n");
  absl::StrAppend(&text, "history: ", history_path, " (raftkv-lincheck ", history_path, ")\n",
                  "run directory: ", run_dir, "\n", "replay: ", replay, "\n", "took ",
                  absl::FormatDuration(elapsed));
  return text;
}

HarnessReport RunFaultHarness(const HarnessOptions& options) {
  HarnessReport report;
  report.replay = ReplayCommand(options);
  std::string dir = options.work_dir + "/raftkv-faults-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) {
    report.problems.push_back("cannot create a run directory under " + options.work_dir);
    return report;
  }
  report.run_dir = dir;
  RunLog log(dir + "/harness.log");
  log.Print("fault harness: seed {}, {} members, nemesis phase {}, run directory {}", options.seed,
            options.members, absl::FormatDuration(options.duration), dir);
  log.Print("replay: {}", report.replay);
  Run(options, log, report);
  report.elapsed = log.elapsed();
  const bool as_expected =
      options.expect_violation ? report.found_expected_violation() : report.passed();
  log.Print("result: {} after {}",
            options.expect_violation
                ? (as_expected ? "violation found, as expected" : "FAILED to find the violation")
                : (as_expected ? "passed" : "FAILED"),
            absl::FormatDuration(report.elapsed));
  if (as_expected && !options.keep_run_dir) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  } else {
    log.Print("kept {} (harness.log, history.txt, n<i>.log and data of each member)", dir);
  }
  return report;
}

}  // namespace raftkv::faults
