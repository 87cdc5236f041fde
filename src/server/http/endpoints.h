// The answers of the HTTP endpoints an etcd operator's tooling expects (/health, /version,
// /metrics) and raftkv's status page (/status, /status.json), as plain functions of what the server publishes, so they are testable without a
// socket. The HTTP server (http_server.h) only routes to them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/metrics.h"

namespace raftkv::server::http {

// Read on every request; each must be thread-safe.
struct EndpointSources {
  std::function<uint64_t()> leader;  // 0 when no leader is known
  // True while an alarm is raised. May be empty: no alarms.
  std::function<bool()> alarm_active;
  // A linearizable read through raft, as etcd's health check does with a quorum get: true when
  // it succeeded within about a second. May be empty: the check is skipped.
  std::function<bool()> quorum_read;
  // Everything /metrics shows (health checks count themselves in it, as etcd's do). Not owned;
  // must outlive the server. May be null in tests of /health alone.
  base::Registry* registry = nullptr;
  // The status page's data (/status.json). May be empty: no status page.
  std::function<std::string()> status_json;
  std::string server_version;   // etcd's "etcdserver" version raftkv answers as
  std::string cluster_version;  // etcd's "etcdcluster" version
};

struct EndpointResponse {
  int status = 200;
  std::string content_type;
  std::string body;
};

// etcd 3.4's /health: {"health":"true"} with 200, or {"health":"false"} with 503 when an alarm
// is raised, there is no leader, or a quorum read fails. (etcd 3.5 adds a "reason" field; etcd
// 3.4's tooling does not read it.)
EndpointResponse Health(const EndpointSources& sources);
// etcd's /version: {"etcdserver":"...","etcdcluster":"..."}.
EndpointResponse Version(const EndpointSources& sources);
// Prometheus text format 0.0.4.
EndpointResponse Metrics(const EndpointSources& sources);
// The status page (HTML) and its data (JSON); 404 when the server has no status source.
EndpointResponse StatusPage(const EndpointSources& sources);
EndpointResponse StatusData(const EndpointSources& sources);

}  // namespace raftkv::server::http
