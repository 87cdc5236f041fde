// Serves /health, /version, /metrics and the status page (/status, /status.json) over plain HTTP on the --listen-metrics-urls, with
// cpp-httplib (its own accept and worker threads). GET only, like etcd.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "server/http/endpoints.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace raftkv::server::http {

class HttpServer {
 public:
  explicit HttpServer(EndpointSources sources);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens on host:port (port 0 picks one) and serves from a thread; the bound port.
  absl::StatusOr<int> Start(const std::string& host, int port);
  // Idempotent.
  void Stop();

 private:
  const EndpointSources sources_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace raftkv::server::http
