#include "server/http/endpoints.h"

#include "absl/strings/str_cat.h"
#include "server/http/status_page.h"

namespace raftkv::server::http {

EndpointResponse Health(const EndpointSources& sources) {
  // Cheapest first: the quorum read goes through raft and is skipped when the answer is known.
  const bool healthy = !(sources.alarm_active && sources.alarm_active()) &&
                       sources.leader() != 0 && (!sources.quorum_read || sources.quorum_read());
  if (sources.registry != nullptr) {
    sources.registry
        ->GetCounter(healthy ? "etcd_server_health_success" : "etcd_server_health_failures",
                     healthy ? "The total number of successful health checks"
                             : "The total number of failed health checks")
        ->Add();
  }
  if (healthy) return {200, "application/json", R"({"health":"true"})"};
  // etcd answers an unhealthy member through http.Error: plain text, with a newline.
  return {503, "text/plain; charset=utf-8", "{\"health\":\"false\"}\n"};
}

EndpointResponse Version(const EndpointSources& sources) {
  // Both versions are constants of this server (digits and dots), so no JSON escaping is needed.
  return {200, "application/json",
          absl::StrCat(R"({"etcdserver":")", sources.server_version, R"(","etcdcluster":")",
                       sources.cluster_version, R"("})")};
}

EndpointResponse Metrics(const EndpointSources& sources) {
  return {200, "text/plain; version=0.0.4; charset=utf-8",
          sources.registry != nullptr ? sources.registry->Exposition() : ""};
}

EndpointResponse StatusPage(const EndpointSources& sources) {
  if (!sources.status_json) return {404, "text/plain", "no status page\n"};
  return {200, "text/html; charset=utf-8", std::string(StatusPageHtml())};
}

EndpointResponse StatusData(const EndpointSources& sources) {
  if (!sources.status_json) return {404, "text/plain", "no status page\n"};
  return {200, "application/json", sources.status_json()};
}

}  // namespace raftkv::server::http
