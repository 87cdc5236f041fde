// The nemesis: random faults drawn from the run's seed and applied to a running cluster —
// partitions (symmetric and one-way), isolation of the leader, crashes and restarts, an
// unreliable network, membership changes (single and joint) and leadership transfers.
//
// Each Step() picks one action; the choice, the victims and the timing all come from the
// cluster's random source, so a seed replays the same sequence of faults. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "sim/cluster.h"

namespace raftkv::sim {

struct NemesisOptions {
  bool partitions = true;
  bool crashes = true;
  bool unreliable_network = true;
  bool membership_changes = true;
  bool leadership_transfers = true;
  // At most this many nodes down at once (0: no limit). A majority may go down: safety must
  // hold regardless; the final quiesce restarts everyone.
  int max_down = 0;
};

class Nemesis {
 public:
  Nemesis(Cluster* cluster, const NemesisOptions& options) : cluster_(cluster), options_(options) {}

  // Applies one random fault (or repair) and returns what it did.
  std::string Step();

 private:
  std::string Partition();
  std::string Crash();
  std::string Restart();
  std::string ChangeMembership();
  std::string TransferLeadership();
  uint64_t RandomNode();

  Cluster* cluster_;
  NemesisOptions options_;
};

}  // namespace raftkv::sim
