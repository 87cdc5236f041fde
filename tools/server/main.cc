// raftkv-server: one member of a replicated key-value cluster that speaks etcd's v3 API.
//
// Flags follow etcd's names and rules (docs/operations.md). Exit codes: 0 after a clean
// shutdown on SIGTERM/SIGINT, 2 for a wrong or inconsistent flag, 1 when the server cannot
// start (data directory locked, address in use, unreadable data).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "CLI/CLI.hpp"
#include "server/flags.h"
#include "server/server.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace {

void AddFlags(CLI::App& app, raftkv::server::ServerFlags& f) {
  app.add_option("--name", f.name, "Human-readable name of this member")->capture_default_str();
  app.add_option("--data-dir", f.data_dir, "Path to the data directory (default: <name>.etcd)");
  app.add_option("--listen-client-urls", f.listen_client_urls,
                 "URLs to listen on for client traffic")
      ->capture_default_str();
  app.add_option("--advertise-client-urls", f.advertise_client_urls,
                 "This member's client URLs, announced to the rest of the cluster")
      ->capture_default_str();
  app.add_option("--listen-peer-urls", f.listen_peer_urls, "URLs to listen on for peer traffic")
      ->capture_default_str();
  app.add_option("--initial-advertise-peer-urls", f.initial_advertise_peer_urls,
                 "This member's peer URLs, as listed in --initial-cluster")
      ->capture_default_str();
  app.add_option("--initial-cluster", f.initial_cluster,
                 "Founding members: name=http://host:port,... (default: <name>=<initial "
                 "advertise peer URLs>)");
  app.add_option("--initial-cluster-state", f.initial_cluster_state,
                 "'new' to found a cluster; ignored on restart with an existing data dir")
      ->capture_default_str();
  app.add_option("--initial-cluster-token", f.initial_cluster_token,
                 "Distinguishes clusters started from the same --initial-cluster")
      ->capture_default_str();
  app.add_option("--heartbeat-interval", f.heartbeat_interval_ms,
                 "Time between leader heartbeats, in milliseconds")
      ->capture_default_str();
  app.add_option("--election-timeout", f.election_timeout_ms,
                 "Time without a leader before an election, in milliseconds (>= 5 heartbeats)")
      ->capture_default_str();
  app.add_option("--snapshot-count", f.snapshot_count,
                 "Applied entries between two snapshots of the store")
      ->capture_default_str();
  app.add_option("--log-level", f.log_level, "debug, info, warn or error")->capture_default_str();
  app.add_option("--listen-metrics-urls", f.listen_metrics_urls,
                 "Extra URLs to serve /metrics and /health on (default: none)");
}

std::shared_ptr<spdlog::logger> MakeLogger(const raftkv::server::ServerFlags& flags) {
  auto logger = spdlog::stderr_color_mt("raftkv");
  logger->set_pattern(fmt::format("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [{}] %v", flags.name));
  logger->set_level(spdlog::level::from_str(flags.log_level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return logger;
}

}  // namespace

int main(int argc, char** argv) {
  raftkv::server::ServerFlags flags;
  CLI::App app{"raftkv-server: a replicated key-value store that speaks etcd's v3 API"};
  app.set_version_flag("--version", "raftkv-server 0.1.0 (etcd API 3.4)");
  AddFlags(app, flags);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  raftkv::server::ApplyDerivedDefaults(&flags);
  if (absl::Status s = raftkv::server::ValidateFlags(flags); !s.ok()) {
    std::fprintf(stderr, "raftkv-server: %s\n", std::string(s.message()).c_str());
    return 2;
  }

  // Signals are taken synchronously by this thread; every thread started later inherits the
  // blocked mask, so none of them is interrupted.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::shared_ptr<spdlog::logger> logger = MakeLogger(flags);
  absl::StatusOr<std::unique_ptr<raftkv::server::Server>> server =
      raftkv::server::Server::Start(flags, logger, [] {
        // A removed member stops, as etcd's does; the signal wakes the sigwait below.
        kill(getpid(), SIGTERM);
      });
  if (!server.ok()) {
    logger->critical("cannot start: {}", std::string(server.status().message()));
    return server.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  int signal = 0;
  sigwait(&signals, &signal);
  logger->info("received {}; shutting down", signal == SIGTERM ? "SIGTERM" : "SIGINT");
  (*server)->Stop();
  server->reset();
  spdlog::shutdown();
  return 0;
}
