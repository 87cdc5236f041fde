// The server's metrics for /metrics, with etcd's names where the meaning is the same (so that
// dashboards and alerts written for etcd keep working) and raftkv_* names for the rest.
//
// Values the node thread or the backend already maintain are read at scrape time; the histogram
// of fsync latencies is fed by the data directory's Env (io::SyncTimingEnv) and gRPC's by the
// interceptor in grpc_metrics.h.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/time/time.h"

#include "base/metrics.h"
#include "node/driver_metrics.h"
#include "server/etcd_backend.h"
#include "server/node_thread.h"

namespace raftkv::server {

// Registers the gauges and counters read from `node` and `backend` (both must outlive every
// scrape of `registry`). `db_size_bytes` returns the store's size.
void RegisterServerMetrics(base::Registry& registry, const NodeThread* node,
                           const EtcdBackend* backend, std::function<double()> db_size_bytes);

// etcd_disk_wal_fsync_duration_seconds, with etcd's buckets (1 ms to about 8 s).
base::Histogram* WalFsyncHistogram(base::Registry& registry);

// raftkv_disk_snapshot_fsync_duration_seconds: the fsync of a snapshot file, which is when the
// applied state becomes durable (the store lives in memory between snapshots). It stands where
// etcd's etcd_disk_backend_commit_duration_seconds stands for bbolt's commits; same buckets.
base::Histogram* SnapshotFsyncHistogram(base::Registry& registry);

// etcd_network_peer_round_trip_time_seconds{To="<peer id in hex>"}, with etcd's buckets
// (0.1 ms to about 3.3 s): a recorder for the transport's probes (on_round_trip).
std::function<void(uint64_t peer_id, absl::Duration round_trip)> PeerRoundTripRecorder(
    base::Registry& registry);

// The node driver's batch and ReadIndex series (raftkv_ready_*, raftkv_proposal_batch_writes,
// raftkv_read_index_*), registered in `registry` and handed to the driver.
node::DriverMetrics RegisterDriverMetrics(base::Registry& registry);

}  // namespace raftkv::server
