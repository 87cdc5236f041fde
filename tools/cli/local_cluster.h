// A cluster of raftkv-server processes on 127.0.0.1, for `raftkv cluster up`, `raftkv demo` and
// the multi-process tests: starts, kills, restarts and stops members, and finds the leader.
//
// Member i (0-based) is called n<i+1>, keeps its data in <data_dir>/n<i+1> and its log in
// <data_dir>/n<i+1>.log, and listens on 127.0.0.1 only.
//
// Thread-safety: not thread-safe; one thread drives a LocalCluster.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace raftkv::cli {

struct LocalClusterOptions {
  int size = 3;
  // Members 0..founders-1 found the cluster; the others are spares, to be added at run time
  // (`etcdctl member add`) and then started with --initial-cluster-state existing. 0: all
  // members are founders.
  int founders = 0;
  // Member i listens for clients on base_port + 2i and for peers on base_port + 2i + 1
  // (2379/2380 for the first member, as etcd's defaults), unless ports are given below.
  int base_port = 2379;
  std::vector<int> client_ports;
  std::vector<int> peer_ports;
  std::string data_dir;
  std::string server_path;
  std::string token = "raftkv-local";
  int heartbeat_interval_ms = 100;
  int election_timeout_ms = 1000;
  uint64_t snapshot_count = 0;  // 0: the server's default
  std::string log_level = "info";
  // https:// client and peer URLs; the certificate flags go in extra_args. WaitForLeader then
  // cannot ask the members (its client speaks plain text).
  bool tls = false;
  // Appended to every member's command line (for example --quota-backend-bytes).
  std::vector<std::string> extra_args;
  // Member i serves /health, /metrics and /status on 127.0.0.1:metrics_ports[i] when given.
  std::vector<int> metrics_ports;
};

// `n` distinct free TCP ports on 127.0.0.1 (bound and released; good enough for tests).
absl::StatusOr<std::vector<int>> PickFreePorts(int n);

// raftkv-server next to the running executable, or the build tree's tools/ directory.
std::string FindServerBinary();

class LocalCluster {
 public:
  explicit LocalCluster(LocalClusterOptions options);
  // Stops the members this object started, unless Detach() was called.
  ~LocalCluster();
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  int size() const { return options_.size; }
  std::string name(int i) const;
  std::string endpoint(int i) const;  // 127.0.0.1:port, for clients
  std::string client_url(int i) const;
  std::string peer_url(int i) const;
  std::string member_data_dir(int i) const;
  std::string log_path(int i) const;
  // The founders' and running spares' endpoints, comma-separated, for --endpoints.
  std::string Endpoints() const;
  // The command line member i runs with.
  std::vector<std::string> ServerArgs(int i) const;

  // Starts member i in the background (its output appended to log_path(i)). The data
  // directory is kept between starts, so a restart recovers the member's state.
  absl::Status Start(int i);
  // Starts the founders (every member when there are no spares).
  absl::Status StartAll();
  bool is_founder(int i) const { return options_.founders == 0 || i < options_.founders; }
  // True once member i, started by this object, has exited on its own (it is then reaped).
  bool Exited(int i);
  // SIGKILL: no chance to clean up, like a crash.
  void Kill(int i);
  // SIGTERM, then SIGKILL after `grace`. OK if the member exited cleanly with status 0.
  absl::Status Stop(int i, absl::Duration grace = absl::Seconds(10));
  void StopAll();
  bool running(int i) const { return pids_[i] > 0; }
  pid_t pid(int i) const { return pids_[i]; }

  // Waits until every running member (other than `ignore`) reports the same leader, and that
  // leader is running; returns its index.
  absl::StatusOr<int> WaitForLeader(absl::Duration timeout, int ignore = -1);

  // Leaves the processes running when this object goes away (for `raftkv cluster up`), and
  // records their pids in <data_dir>/pids for `raftkv cluster down`.
  absl::Status Detach();

 private:
  int client_port(int i) const;
  int peer_port(int i) const;

  LocalClusterOptions options_;
  std::vector<pid_t> pids_;
  bool detached_ = false;
};

}  // namespace raftkv::cli
