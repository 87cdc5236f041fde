// Helpers for the multi-process tests: a fresh three-member cluster per test on free loopback
// ports, running etcdctl, and polling with deadlines instead of sleeping.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "etcd_client.h"
#include "local_cluster.h"

namespace raftkv::process_test {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs a shell command line and collects its output.
CommandResult RunCommand(const std::string& command);

// Polls `done` every 20 ms until it holds or `timeout` passes.
bool Eventually(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(20));

// A command (a watcher, a lock holder, a candidate) running in the background through
// /bin/sh, its stdout and stderr going to a file; killed with SIGKILL, if still running, when
// destroyed.
class BackgroundCommand {
 public:
  BackgroundCommand(const std::string& command, const std::string& output_path);
  ~BackgroundCommand();
  BackgroundCommand(const BackgroundCommand&) = delete;
  BackgroundCommand& operator=(const BackgroundCommand&) = delete;

  // Everything the command printed so far.
  std::string Output() const;
  // Sends `signal` and, for a terminating one, waits for the command to exit.
  void Signal(int signal);

 private:
  std::string output_path_;
  pid_t pid_ = -1;
};

// Pauses (SIGSTOP) every running member of `cluster` but `except` while it exists; SIGCONT when
// it goes away. A paused member keeps its sockets: what is sent to it waits, as on a slow
// machine. Keep pauses well below the election timeout to keep the leader leading.
class PausedFollowers {
 public:
  PausedFollowers(cli::LocalCluster& cluster, int except);
  ~PausedFollowers();
  PausedFollowers(const PausedFollowers&) = delete;
  PausedFollowers& operator=(const PausedFollowers&) = delete;

 private:
  cli::LocalCluster& cluster_;
  const int except_;
};

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Starts the cluster (three members unless size_ is changed before) and waits for a leader.
  void StartCluster(uint64_t snapshot_count = 0);

  // etcdctl (API v3) against the given endpoints (all members when empty).
  CommandResult Etcdctl(const std::string& args, const std::string& endpoints = "");

  int WaitForLeader(int ignore = -1);
  // Reads `key` from member i's own store (serializable), "" if absent or unreachable.
  std::string LocalValue(int i, const std::string& key);

  std::string data_dir_;
  std::unique_ptr<cli::LocalCluster> cluster_;
  int size_ = 3;
  // Spare members after the founders, added at run time by a test.
  int spares_ = 0;
  // Appended to every member's command line.
  std::vector<std::string> extra_server_args_;
  // Member i serves HTTP (/health, /metrics, /status) on metrics_ports_[i] when set.
  std::vector<int> metrics_ports_;
};

}  // namespace raftkv::process_test
