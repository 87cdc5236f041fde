// What the status page shows: every member with its own view of leader, term, commit and applied
// index (asked over etcd's Maintenance.Status, as `etcdctl endpoint status` does), this member's
// recent leader changes and its WAL fsync latency.
//
// Collected on the HTTP worker that serves /status.json: this member's values come from what the
// node thread publishes, the others' from one Status call each with a short deadline, so an
// unreachable member shows as such instead of stalling the page.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "base/metrics.h"
#include "grpcpp/security/credentials.h"
#include "server/etcd/backend.h"
#include "server/node_thread.h"

namespace raftkv::server {

struct MemberStatus {
  uint64_t id = 0;
  std::string name;  // empty while the member has not started
  std::vector<std::string> client_urls;
  bool is_learner = false;
  bool is_self = false;
  // Whether its status could be read; when not, `error` says why and the numbers are 0.
  bool reachable = false;
  std::string error;
  uint64_t leader = 0;
  uint64_t term = 0;
  uint64_t commit = 0;
  uint64_t applied = 0;
  int64_t db_size_bytes = 0;
};

struct ClusterStatusView {
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;  // the member serving the page
  uint64_t leader = 0;     // as this member knows it
  uint64_t term = 0;
  std::vector<MemberStatus> members;
  std::vector<NodeThread::LeaderChange> leader_changes;
  uint64_t fsync_count = 0;
  double fsync_mean_seconds = 0;
  // The upper bound of the bucket holding the 99th percentile (histograms keep no exact values).
  double fsync_p99_seconds = 0;
};

// `fsync` may be null (no fsync figures). Members are asked over their first client URL:
// http:// in plain text, https:// with `tls` (this member's client credentials, as for calls it
// forwards to the leader; null: https:// members are not asked, and say so).
ClusterStatusView CollectClusterStatus(etcd::Backend& backend, const NodeThread& node,
                                       const base::Histogram* fsync,
                                       absl::Duration per_member_timeout,
                                       std::shared_ptr<grpc::ChannelCredentials> tls = nullptr);

// The view as the JSON document /status.json serves.
std::string StatusJson(const ClusterStatusView& view);

}  // namespace raftkv::server
