// The server's metrics for /metrics, with etcd's names where the meaning is the same (so that
// dashboards and alerts written for etcd keep working) and raftkv_* names for the rest.
//
// Values the node thread or the backend already maintain are read at scrape time; the histogram
// of fsync latencies is fed by the data directory's Env (io::SyncTimingEnv) and gRPC's by the
// interceptor in grpc_metrics.h.
#pragma once

#include <functional>
#include <string>

#include "base/metrics.h"
#include "server/etcd_backend.h"
#include "server/node_thread.h"

namespace raftkv::server {

// Registers the gauges and counters read from `node` and `backend` (both must outlive every
// scrape of `registry`). `db_size_bytes` returns the store's size.
void RegisterServerMetrics(base::Registry& registry, const NodeThread* node,
                           const EtcdBackend* backend, std::function<double()> db_size_bytes);

// etcd_disk_wal_fsync_duration_seconds, with etcd's buckets (1 ms to about 8 s).
base::Histogram* WalFsyncHistogram(base::Registry& registry);

}  // namespace raftkv::server
