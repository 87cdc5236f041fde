// What the driver measures for the host's /metrics: how much work each pass of the Ready loop
// batched together, and how reads shared ReadIndex rounds. These are the figures that explain
// throughput (one fsync and one message per follower carry a whole batch) and read latency.
//
// The host creates the series (the server's /metrics registry) and passes their addresses;
// every pointer may be null, and the simulator and most tests pass none. Recording is a relaxed
// atomic update, so it costs the loop no lock.
#pragma once

#include "base/metrics.h"

namespace raftkv::node {

struct DriverMetrics {
  // Per Ready that carried entries to persist: how many.
  base::Histogram* entries_persisted_per_ready = nullptr;
  // Per Ready that carried committed entries: how many were applied.
  base::Histogram* entries_applied_per_ready = nullptr;
  // Per proposal batch (the writes that arrived between two passes): how many writes.
  base::Histogram* writes_per_proposal = nullptr;
  // ReadIndex rounds issued, and how many linearizable reads each answered.
  base::Counter* read_index_rounds = nullptr;
  base::Histogram* reads_per_read_index_round = nullptr;
};

}  // namespace raftkv::node
