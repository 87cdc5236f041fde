#include "local_cluster.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "etcd_client.h"

namespace raftkv::cli {

absl::StatusOr<std::vector<int>> PickFreePorts(int n) {
  std::vector<int> ports;
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
    fds.push_back(fd);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      for (int f : fds) ::close(f);
      return absl::InternalError(absl::StrCat("bind: ", std::strerror(errno)));
    }
    ports.push_back(ntohs(addr.sin_port));
  }
  // All bound at once, so the ports are distinct; released together for the servers to take.
  for (int f : fds) ::close(f);
  return ports;
}

std::string FindServerBinary() {
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    self[n] = '\0';
    std::string dir(self);
    dir = dir.substr(0, dir.find_last_of('/'));
    for (const std::string& candidate : {dir + "/raftkv-server", dir + "/../tools/raftkv-server",
                                         dir + "/../../tools/raftkv-server"}) {
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  return "raftkv-server";
}

LocalCluster::LocalCluster(LocalClusterOptions options)
    : options_(std::move(options)), pids_(options_.size, 0) {}

LocalCluster::~LocalCluster() {
  if (!detached_) StopAll();
}

int LocalCluster::client_port(int i) const {
  if (i < static_cast<int>(options_.client_ports.size())) return options_.client_ports[i];
  return options_.base_port + 2 * i;
}
int LocalCluster::peer_port(int i) const {
  if (i < static_cast<int>(options_.peer_ports.size())) return options_.peer_ports[i];
  return options_.base_port + 2 * i + 1;
}
std::string LocalCluster::name(int i) const { return absl::StrCat("n", i + 1); }
std::string LocalCluster::endpoint(int i) const {
  return absl::StrCat("127.0.0.1:", client_port(i));
}
std::string LocalCluster::client_url(int i) const {
  return absl::StrCat(options_.tls ? "https://" : "http://", endpoint(i));
}
std::string LocalCluster::peer_url(int i) const {
  return absl::StrCat(options_.tls ? "https://" : "http://", "127.0.0.1:", peer_port(i));
}
std::string LocalCluster::member_data_dir(int i) const { return options_.data_dir + "/" + name(i); }
std::string LocalCluster::log_path(int i) const {
  return options_.data_dir + "/" + name(i) + ".log";
}
std::string LocalCluster::Endpoints() const {
  std::vector<std::string> all;
  for (int i = 0; i < size(); ++i) {
    if (is_founder(i) || running(i)) all.push_back(endpoint(i));
  }
  return absl::StrJoin(all, ",");
}

std::vector<std::string> LocalCluster::ServerArgs(int i) const {
  // A founder lists the founders; a spare lists everyone up to itself, so that it can reach the
  // running members to join.
  std::vector<std::string> initial;
  for (int j = 0; j < size(); ++j) {
    if (is_founder(j) || (!is_founder(i) && j <= i)) initial.push_back(name(j) + "=" + peer_url(j));
  }
  std::vector<std::string> args = {
      options_.server_path,
      "--name=" + name(i),
      "--data-dir=" + member_data_dir(i),
      "--listen-client-urls=" + client_url(i),
      "--advertise-client-urls=" + client_url(i),
      "--listen-peer-urls=" + peer_url(i),
      "--initial-advertise-peer-urls=" + peer_url(i),
      "--initial-cluster=" + absl::StrJoin(initial, ","),
      std::string("--initial-cluster-state=") + (is_founder(i) ? "new" : "existing"),
      "--initial-cluster-token=" + options_.token,
      absl::StrCat("--heartbeat-interval=", options_.heartbeat_interval_ms),
      absl::StrCat("--election-timeout=", options_.election_timeout_ms),
      "--log-level=" + options_.log_level,
  };
  if (options_.snapshot_count > 0) {
    args.push_back(absl::StrCat("--snapshot-count=", options_.snapshot_count));
  }
  if (i < static_cast<int>(options_.metrics_ports.size())) {
    args.push_back(absl::StrCat("--listen-metrics-urls=http://127.0.0.1:", options_.metrics_ports[i]));
  }
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  return args;
}

absl::Status LocalCluster::Start(int i) {
  if (running(i)) return absl::OkStatus();
  ::mkdir(options_.data_dir.c_str(), 0700);
  std::vector<std::string> args = ServerArgs(i);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log = log_path(i);
  pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec: gRPC threads exist in the parent.
    ::setsid();  // its own process group: a Ctrl-C in the terminal goes to the tool only
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      ::close(fd);
    }
    int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pids_[i] = pid;
  // A server that cannot start (bad flags, locked data dir, port taken) exits at once.
  for (int k = 0; k < 20; ++k) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      pids_[i] = 0;
      return absl::FailedPreconditionError(
          absl::StrCat(name(i), " exited at start with status ",
                       WIFEXITED(status) ? WEXITSTATUS(status) : -1, "; see ", log));
    }
    ::usleep(10 * 1000);
  }
  return absl::OkStatus();
}

absl::Status LocalCluster::StartAll() {
  for (int i = 0; i < size(); ++i) {
    if (!is_founder(i)) continue;
    if (absl::Status s = Start(i); !s.ok()) return s;
  }
  return absl::OkStatus();
}

bool LocalCluster::Exited(int i) {
  if (!running(i)) return false;
  if (::waitpid(pids_[i], nullptr, WNOHANG) != pids_[i]) return false;
  pids_[i] = 0;
  return true;
}

void LocalCluster::Kill(int i) {
  if (!running(i)) return;
  ::kill(pids_[i], SIGKILL);
  ::waitpid(pids_[i], nullptr, 0);
  pids_[i] = 0;
}

absl::Status LocalCluster::Stop(int i, absl::Duration grace) {
  if (!running(i)) return absl::OkStatus();
  const pid_t pid = pids_[i];
  pids_[i] = 0;
  ::kill(pid, SIGTERM);
  const absl::Time deadline = absl::Now() + grace;
  int status = 0;
  while (absl::Now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
      return absl::InternalError(absl::StrCat(name(i), " exited with status ", status,
                                              " after SIGTERM; see ", log_path(i)));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return absl::DeadlineExceededError(absl::StrCat(
      name(i), " did not stop within ", absl::FormatDuration(grace), " of SIGTERM; killed it"));
}

void LocalCluster::StopAll() {
  for (int i = 0; i < size(); ++i) (void)Stop(i);
}

absl::StatusOr<int> LocalCluster::WaitForLeader(absl::Duration timeout, int ignore) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string last_problem = "no member is running";
  while (absl::Now() < deadline) {
    std::map<uint64_t, int> index_of;
    uint64_t leader = 0;
    bool agreed = true;
    for (int i = 0; i < size() && agreed; ++i) {
      if (!running(i) || i == ignore) continue;
      EtcdClient client(endpoint(i), absl::Milliseconds(500));
      absl::StatusOr<etcdserverpb::StatusResponse> status = client.Status();
      if (!status.ok()) {
        last_problem = std::string(status.status().message());
        agreed = false;
        break;
      }
      index_of[status->header().member_id()] = i;
      if (status->leader() == 0 || (leader != 0 && status->leader() != leader)) {
        last_problem = absl::StrCat(name(i), " knows no leader yet");
        agreed = false;
      }
      leader = status->leader();
    }
    if (agreed && leader != 0 && index_of.contains(leader)) return index_of[leader];
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("no leader within ", absl::FormatDuration(timeout), ": ", last_problem));
}

absl::Status LocalCluster::Detach() {
  std::ofstream out(options_.data_dir + "/pids");
  for (int i = 0; i < size(); ++i) {
    if (running(i)) out << pids_[i] << " " << name(i) << "\n";
  }
  if (!out) return absl::InternalError("cannot write " + options_.data_dir + "/pids");
  detached_ = true;
  return absl::OkStatus();
}

}  // namespace raftkv::cli
