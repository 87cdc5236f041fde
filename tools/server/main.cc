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
#include <vector>

#include "absl/synchronization/mutex.h"
#include "server/command_line.h"
#include "server/flags.h"
#include "server/log_setup.h"
#include "server/server.h"
#include "spdlog/spdlog.h"

int main(int argc, char** argv) {
#ifdef NDEBUG
  // Debian's absl checks every Mutex acquisition for lock-order cycles, in one global graph
  // behind one global lock, whatever the build type of the program. A release server skips
  // that bookkeeping; the developer and test builds (no NDEBUG) keep it and so still catch a
  // lock-order inversion.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  std::vector<std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) environment.emplace_back(*entry);
  raftkv::server::CommandLine command_line = raftkv::server::ParseCommandLine(
      std::vector<std::string>(argv + 1, argv + argc), environment);
  if (command_line.exit_code.has_value()) {
    std::fputs(command_line.message.c_str(), *command_line.exit_code == 0 ? stdout : stderr);
    return *command_line.exit_code;
  }
  raftkv::server::ServerFlags flags = command_line.flags;
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

  absl::StatusOr<std::shared_ptr<spdlog::logger>> made = raftkv::server::MakeServerLogger(flags);
  if (!made.ok()) {
    std::fprintf(stderr, "raftkv-server: %s\n", std::string(made.status().message()).c_str());
    return 2;
  }
  std::shared_ptr<spdlog::logger> logger = *made;
  for (const std::string& warning : command_line.warnings) logger->warn("{}", warning);
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
