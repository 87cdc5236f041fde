#include "server/server_metrics.h"

#include <utility>
#include <vector>

#include "fmt/format.h"

namespace raftkv::server {

void RegisterServerMetrics(base::Registry& registry, const NodeThread* node,
                           const EtcdBackend* backend, std::function<double()> db_size_bytes) {
  registry.AddGauge("etcd_server_has_leader",
                    "Whether or not a leader exists. 1 is existence, 0 is not.",
                    [node] { return node->leader() != 0 ? 1.0 : 0.0; });
  registry.AddGauge("etcd_server_is_leader",
                    "Whether or not this member is a leader. 1 if is, 0 otherwise.",
                    [node] { return node->is_leader() ? 1.0 : 0.0; });
  registry.AddCounterFunction("etcd_server_leader_changes_seen_total",
                              "The number of leader changes seen.",
                              [node] { return static_cast<double>(node->leader_changes()); });
  // etcd exports the committed and applied indexes under these names, as gauges.
  registry.AddGauge("etcd_server_proposals_committed_total",
                    "The total number of consensus proposals committed.",
                    [node] { return static_cast<double>(node->commit()); });
  registry.AddGauge("etcd_server_proposals_applied_total",
                    "The total number of consensus proposals applied.",
                    [node] { return static_cast<double>(node->applied()); });
  registry.AddGauge("etcd_server_proposals_pending", "The current number of pending proposals to commit.",
                    [backend] { return static_cast<double>(backend->proposals_pending()); });
  registry.AddCounterFunction("etcd_server_proposals_failed_total",
                              "The total number of failed proposals seen.",
                              [backend] { return static_cast<double>(backend->proposals_failed()); });
  registry.AddGauge("etcd_mvcc_db_total_size_in_bytes",
                    "Total size of the underlying database physically allocated in bytes.",
                    std::move(db_size_bytes));
  registry.AddGauge("raftkv_apply_lag_entries",
                    "Committed raft log entries this member has not applied yet.", [node] {
                      const uint64_t commit = node->commit();
                      const uint64_t applied = node->applied();
                      return static_cast<double>(commit > applied ? commit - applied : 0);
                    });
  registry.AddGauge("raftkv_raft_term", "The raft term this member is in.",
                    [node] { return static_cast<double>(node->term()); });
}

base::Histogram* WalFsyncHistogram(base::Registry& registry) {
  return registry.GetHistogram("etcd_disk_wal_fsync_duration_seconds",
                               "The latency distributions of fsync called by WAL.",
                               base::ExponentialBuckets(0.001, 2, 14));
}

base::Histogram* SnapshotFsyncHistogram(base::Registry& registry) {
  return registry.GetHistogram(
      "raftkv_disk_snapshot_fsync_duration_seconds",
      "The latency distributions of fsync called on a snapshot of the state (raftkv's "
      "counterpart of the backend commit).",
      base::ExponentialBuckets(0.001, 2, 14));
}

std::function<void(uint64_t, absl::Duration)> PeerRoundTripRecorder(base::Registry& registry) {
  return [&registry](uint64_t peer_id, absl::Duration round_trip) {
    // A probe every few seconds per peer: looking the series up each time costs nothing.
    registry
        .GetHistogram("etcd_network_peer_round_trip_time_seconds",
                      "Round-Trip-Time histogram between peers",
                      base::ExponentialBuckets(0.0001, 2, 16),
                      {{"To", fmt::format("{:x}", peer_id)}})
        ->Observe(absl::ToDoubleSeconds(round_trip));
  };
}

node::DriverMetrics RegisterDriverMetrics(base::Registry& registry) {
  const std::vector<double> counts = base::ExponentialBuckets(1, 2, 14);  // 1 to 8192
  return node::DriverMetrics{
      .entries_persisted_per_ready = registry.GetHistogram(
          "raftkv_ready_entries_persisted",
          "Raft log entries written (with one fsync at most) per pass of the Ready loop.", counts),
      .entries_applied_per_ready = registry.GetHistogram(
          "raftkv_ready_entries_applied",
          "Committed raft log entries applied per pass of the Ready loop.", counts),
      .writes_per_proposal = registry.GetHistogram(
          "raftkv_proposal_batch_writes",
          "Client writes proposed together as one batch (one append, one message per follower).",
          counts),
      .read_index_rounds = registry.GetCounter(
          "raftkv_read_index_rounds_total",
          "ReadIndex rounds this member started for linearizable reads."),
      .reads_per_read_index_round = registry.GetHistogram(
          "raftkv_read_index_round_reads", "Linearizable reads answered by one ReadIndex round.",
          counts),
  };
}

}  // namespace raftkv::server
