#include "process_test_util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace raftkv::process_test {

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

bool Eventually(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return done();
}

BackgroundCommand::BackgroundCommand(const std::string& command, const std::string& output_path)
    : output_path_(output_path) {
  pid_ = ::fork();
  if (pid_ == 0) {
    const std::string line = absl::StrCat("exec ", command, " > ", output_path, " 2>&1");
    ::execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
}

BackgroundCommand::~BackgroundCommand() { Signal(SIGKILL); }

std::string BackgroundCommand::Output() const {
  std::ifstream in(output_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void BackgroundCommand::Signal(int signal) {
  if (pid_ <= 0) return;
  ::kill(pid_, signal);
  if (signal == SIGKILL || signal == SIGTERM || signal == SIGINT) {
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
}

PausedFollowers::PausedFollowers(cli::LocalCluster& cluster, int except)
    : cluster_(cluster), except_(except) {
  for (int i = 0; i < cluster_.size(); ++i) {
    if (i != except_ && cluster_.running(i)) ::kill(cluster_.pid(i), SIGSTOP);
  }
}

PausedFollowers::~PausedFollowers() {
  for (int i = 0; i < cluster_.size(); ++i) {
    if (i != except_ && cluster_.running(i)) ::kill(cluster_.pid(i), SIGCONT);
  }
}

void ClusterTest::SetUp() {
  // etcdctl is a test dependency: its absence is a failure, not a reason to skip.
  ASSERT_EQ(::access("/usr/bin/etcdctl", X_OK), 0)
      << "etcdctl is not installed (scripts/setup.sh installs etcd-client)";
  char tmpl[] = "/tmp/raftkv-process-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  data_dir_ = tmpl;
}

void ClusterTest::TearDown() {
  cluster_.reset();  // stops every member still running
  if (!data_dir_.empty() && !HasFailure()) {
    std::error_code ignored;
    std::filesystem::remove_all(data_dir_, ignored);
  } else if (!data_dir_.empty()) {
    std::printf("member logs kept in %s\n", data_dir_.c_str());
  }
}

void ClusterTest::StartCluster(uint64_t snapshot_count) {
  const int total = size_ + spares_;
  absl::StatusOr<std::vector<int>> ports = cli::PickFreePorts(2 * total);
  ASSERT_TRUE(ports.ok()) << ports.status();
  cli::LocalClusterOptions options;
  options.size = total;
  options.founders = spares_ > 0 ? size_ : 0;
  options.client_ports.assign(ports->begin(), ports->begin() + total);
  options.peer_ports.assign(ports->begin() + total, ports->end());
  options.data_dir = data_dir_;
  options.server_path = RAFTKV_SERVER_PATH;
  options.token = "process-test";
  options.snapshot_count = snapshot_count;
  options.extra_args = extra_server_args_;
  options.metrics_ports = metrics_ports_;
  cluster_ = std::make_unique<cli::LocalCluster>(options);
  absl::Status started = cluster_->StartAll();
  ASSERT_TRUE(started.ok()) << started;
  WaitForLeader();
  // Like etcd, each member announces its client URLs through the log once it has a leader; a
  // test that compares member lists starts only when every founder's list shows every URL.
  const int founders = spares_ > 0 ? size_ : total;
  EXPECT_TRUE(Eventually([&] {
    for (int i = 0; i < founders; ++i) {
      const std::string list = Etcdctl("member list", cluster_->endpoint(i)).output;
      for (int j = 0; j < founders; ++j) {
        if (list.find("http://" + cluster_->endpoint(j)) == std::string::npos) return false;
      }
    }
    return true;
  })) << "the founders never all published their client URLs";
}

CommandResult ClusterTest::Etcdctl(const std::string& args, const std::string& endpoints) {
  return RunCommand(absl::StrCat(
      "ETCDCTL_API=3 /usr/bin/etcdctl --dial-timeout=3s --command-timeout=10s",
      " --endpoints=", endpoints.empty() ? cluster_->Endpoints() : endpoints, " ", args));
}

int ClusterTest::WaitForLeader(int ignore) {
  absl::StatusOr<int> leader = cluster_->WaitForLeader(absl::Seconds(30), ignore);
  EXPECT_TRUE(leader.ok()) << leader.status();
  return leader.value_or(-1);
}

std::string ClusterTest::LocalValue(int i, const std::string& key) {
  cli::EtcdClient client(cluster_->endpoint(i), absl::Seconds(2));
  absl::StatusOr<etcdserverpb::RangeResponse> r = client.Get(key, "", /*serializable=*/true);
  if (!r.ok() || r->kvs_size() != 1) return "";
  return r->kvs(0).value();
}

}  // namespace raftkv::process_test
