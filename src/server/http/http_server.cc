#include "server/http/http_server.h"

#include <httplib.h>

#include <sys/socket.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace raftkv::server::http {
namespace {

void Reply(httplib::Response& res, const EndpointResponse& answer) {
  res.status = answer.status;
  res.set_content(answer.body, answer.content_type.c_str());
}

}  // namespace

HttpServer::HttpServer(EndpointSources sources)
    : sources_(std::move(sources)), server_(std::make_unique<httplib::Server>()) {
  server_->Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    Reply(res, Health(sources_));
  });
  server_->Get("/version", [this](const httplib::Request&, httplib::Response& res) {
    Reply(res, Version(sources_));
  });
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    Reply(res, Metrics(sources_));
  });
  server_->Get("/status", [this](const httplib::Request&, httplib::Response& res) {
    Reply(res, StatusPage(sources_));
  });
  server_->Get("/status.json", [this](const httplib::Request&, httplib::Response& res) {
    Reply(res, StatusData(sources_));
  });
  // Bound what a scraper can send: these endpoints take no body and short URLs.
  server_->set_payload_max_length(4096);
  // cpp-httplib's default also sets SO_REUSEPORT, with which a second server started on the same
  // address would silently share the port (and half the scrapes). SO_REUSEADDR alone allows a
  // restart while old connections linger, and a port in use is an error.
  server_->set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
}

HttpServer::~HttpServer() { Stop(); }

absl::StatusOr<int> HttpServer::Start(const std::string& host, int port) {
  const int bound = port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for metrics on ", host, ":", port,
                                               ": the address is in use or not local (check "
                                               "--listen-metrics-urls)"));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() only interrupts a server that is already in its accept loop: wait for it, so that a
  // Stop right after Start cannot leave the thread listening forever.
  for (int waited_ms = 0; !server_->is_running() && waited_ms < 5000; ++waited_ms) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  return bound;
}

void HttpServer::Stop() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace raftkv::server::http
