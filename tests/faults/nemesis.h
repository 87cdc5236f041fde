// The nemeses: what goes wrong, in which order, and how each fault is made and healed.
//
// The schedule is a pure function of the seed: it cycles through the enabled kinds in an order
// shuffled per cycle (so every kind comes once per cycle), and draws each step's hold time, the
// pause after healing, and a number that decides which members the fault hits. Which member
// leads is found out when the step runs, so "isolate the leader" hits whoever leads then; a
// replay of a seed makes the same choices in the same order (see docs/testing.md).
//
// Thread-safety: not thread-safe; the harness's main thread runs the nemesis.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/rand.h"
#include "fault_cluster.h"
#include "namespace_network.h"
#include "run_log.h"

namespace raftkv::faults {

enum class NemesisKind {
  kPartitionHalves,  // two random halves cannot talk to each other
  kIsolateLeader,    // the leader cannot talk to anyone
  kOneWayPartition,  // a random group's messages to the others are lost; theirs arrive
  kKillRestart,      // kill -9 a member (the leader 60 % of the time), restart it at heal
  kPauseLeader,      // SIGSTOP the leader, SIGCONT at heal
  kTransferLeader,   // Maintenance.MoveLeader to a random other member
  kReplaceMember,    // remove a follower, wipe its disk, add it back as a new member
};

std::string_view NemesisName(NemesisKind kind);  // "partition-halves", ...
std::optional<NemesisKind> NemesisFromName(std::string_view name);
std::vector<NemesisKind> AllNemeses();
// Partitions need the namespace network.
bool NeedsNetwork(NemesisKind kind);

struct ScheduleTiming {
  absl::Duration min_hold = absl::Seconds(1);
  absl::Duration max_hold = absl::Seconds(4);
  absl::Duration min_pause = absl::Milliseconds(500);
  absl::Duration max_pause = absl::Milliseconds(1500);
};

struct NemesisStep {
  int number = 0;  // 1, 2, ...
  NemesisKind kind = NemesisKind::kKillRestart;
  absl::Duration hold;
  absl::Duration pause;
  uint64_t choice = 0;  // seeds the step's choice of members
};

class NemesisSchedule {
 public:
  // REQUIRES: !kinds.empty().
  NemesisSchedule(uint64_t seed, std::vector<NemesisKind> kinds, ScheduleTiming timing);
  NemesisStep Next();

 private:
  absl::Duration Between(absl::Duration lo, absl::Duration hi);

  base::Rand rand_;
  const std::vector<NemesisKind> kinds_;
  const ScheduleTiming timing_;
  std::vector<NemesisKind> cycle_;
  int number_ = 0;
};

class Nemesis {
 public:
  // `network` is null in loopback mode (no partitions).
  Nemesis(FaultCluster& cluster, NamespaceNetwork* network, RunLog& log);

  // Makes the step's fault, holds it, heals it, and waits the pause. A fault that could not be
  // made (no leader to target, a refused transfer) is logged and skipped, and not counted as
  // applied. An error means the cluster could not be healed: the run cannot go on.
  absl::Status Run(const NemesisStep& step);

  // How many times each kind was actually applied.
  const std::map<NemesisKind, int>& applied() const { return applied_; }

 private:
  // What Run needs to undo the fault; empty when there is nothing to undo.
  struct Fault {
    std::string description;
    bool network = false;  // heal with HealAll
    int killed = -1;       // restart at heal
    int paused = -1;       // resume at heal
  };

  absl::StatusOr<Fault> Make(const NemesisStep& step, base::Rand& pick);
  absl::Status Heal(const Fault& fault);
  // The leader, or (after a few seconds without one) nullopt.
  std::optional<int> Leader();
  std::string Names(const std::vector<int>& members) const;

  FaultCluster& cluster_;
  NamespaceNetwork* const network_;
  RunLog& log_;
  std::map<NemesisKind, int> applied_;
};

}  // namespace raftkv::faults
