// The linearizability checker: is there a total order of a history's operations that respects
// real time (a finished before b started => a before b) and that the model accepts?
//
// The search is Wing & Gong's, with Lowe's memoization ("Testing for linearizability", 2017):
// a depth-first search over "which pending operation takes effect next", pruned by remembering
// every (set of operations already placed, model state) pair it has expanded. Different orders
// that reach the same set and state are explored once, which is what makes histories with tens
// of thousands of operations tractable once the model splits them per key.
//
// Stateless functions; safe to call concurrently on different histories.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "lincheck/history.h"
#include "lincheck/model.h"

namespace raftkv::lincheck {

enum class Verdict {
  kLinearizable,
  kNotLinearizable,
  kUnknown,  // the time budget ran out before the search finished
};

std::string_view VerdictName(Verdict verdict);  // "linearizable", "not linearizable", "unknown"

struct CheckOptions {
  // Wall-clock budget for the whole history; past it the verdict is kUnknown unless a
  // violation was already found.
  absl::Duration timeout = absl::InfiniteDuration();
};

// Where the search for a failing partition got furthest.
struct FailureReport {
  std::string partition_label;     // e.g. `key "k1"`
  size_t partition_size = 0;       // operations in the partition (failed ones excluded)
  std::vector<size_t> linearized;  // the longest valid order found, as history indices
  State state_after;               // the model state after `linearized`
  std::string state_description;   // the same, readable
  // The operations that could have been placed next after `linearized` (their call precedes
  // the earliest pending return); no choice among them leads to a full linearization.
  std::vector<size_t> stuck;
};

struct CheckResult {
  Verdict verdict = Verdict::kLinearizable;
  // Set iff kNotLinearizable: the failing partition with the fewest operations.
  std::optional<FailureReport> failure;
  size_t partitions = 0;
  // Search nodes (placed set + state) expanded over all partitions checked: a measure of how
  // hard the history was, independent of the machine.
  uint64_t nodes_expanded = 0;
  absl::Duration elapsed;
};

// Checks `history` against `model`, one partition at a time from the smallest, stopping at the
// first that is not linearizable (so that partition is the smallest failing one).
// kFailed operations are ignored; kUnknown ones may take effect anywhere after their call or
// not at all.
CheckResult CheckHistory(const Model& model, const History& history,
                         const CheckOptions& options = {});

// A readable account of a kNotLinearizable result: the failing partition, the last
// `context_ops` operations of the longest linearizable prefix, the state it leads to, and the
// operations that could not be placed after it (marked when the model rejects them outright).
std::string FormatFailure(const Model& model, const History& history, const FailureReport& report,
                          size_t context_ops = 10);

}  // namespace raftkv::lincheck
