#include "fault_cluster.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "etcd_client.h"

namespace raftkv::faults {

FaultCluster::FaultCluster(ClusterLayout layout, RunLog& log)
    : layout_(std::move(layout)), log_(log), members_(layout_.hosts.size()) {}

FaultCluster::~FaultCluster() {
  for (Member& m : members_) m.process.Kill();
}

std::string FaultCluster::name(int i) const {
  const int generation = members_[i].generation;
  return generation == 0 ? absl::StrCat("n", i + 1) : absl::StrCat("n", i + 1, "-r", generation);
}
std::string FaultCluster::endpoint(int i) const {
  return absl::StrCat(layout_.hosts[i], ":", layout_.client_ports[i]);
}
std::string FaultCluster::client_url(int i) const { return "http://" + endpoint(i); }
std::string FaultCluster::peer_url(int i) const {
  return absl::StrCat("http://", layout_.hosts[i], ":", layout_.peer_ports[i]);
}
std::string FaultCluster::data_dir(int i) const {
  return absl::StrCat(layout_.run_dir, "/n", i + 1);
}
std::string FaultCluster::log_path(int i) const {
  return absl::StrCat(layout_.run_dir, "/n", i + 1, ".log");
}

std::vector<std::string> FaultCluster::Endpoints() const {
  std::vector<std::string> all;
  for (int i = 0; i < size(); ++i) all.push_back(endpoint(i));
  return all;
}

std::vector<std::string> FaultCluster::ServerArgs(int i, const std::string& initial_cluster,
                                                  const std::string& state) const {
  return {
      layout_.server_path,
      "--name=" + name(i),
      "--data-dir=" + data_dir(i),
      "--listen-client-urls=" + client_url(i),
      "--advertise-client-urls=" + client_url(i),
      "--listen-peer-urls=" + peer_url(i),
      "--initial-advertise-peer-urls=" + peer_url(i),
      "--initial-cluster=" + initial_cluster,
      "--initial-cluster-state=" + state,
      "--initial-cluster-token=" + layout_.token,
      absl::StrCat("--heartbeat-interval=", layout_.heartbeat_ms),
      absl::StrCat("--election-timeout=", layout_.election_timeout_ms),
      absl::StrCat("--snapshot-count=", layout_.snapshot_count),
      "--log-level=info",
  };
}

absl::Status FaultCluster::StartWith(int i, std::vector<std::string> args) {
  members_[i].args = std::move(args);
  return members_[i].process.Start(members_[i].args, layout_.netns_paths[i], log_path(i));
}

absl::Status FaultCluster::StartFounders() {
  std::vector<std::string> initial;
  for (int i = 0; i < size(); ++i) initial.push_back(name(i) + "=" + peer_url(i));
  const std::string initial_cluster = absl::StrJoin(initial, ",");
  for (int i = 0; i < size(); ++i) {
    if (absl::Status s = StartWith(i, ServerArgs(i, initial_cluster, "new")); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status FaultCluster::Restart(int i) {
  if (running(i)) return absl::OkStatus();
  if (members_[i].args.empty()) {
    // Its replacement failed after the old member was removed: starting the old command line
    // on an emptied disk would found a cluster of its own.
    return absl::FailedPreconditionError(name(i) + " was removed and never added back");
  }
  return members_[i].process.Start(members_[i].args, layout_.netns_paths[i], log_path(i));
}

absl::Status FaultCluster::RestoreAll() {
  absl::Status first;
  for (int i = 0; i < size(); ++i) {
    if (paused(i)) {
      Resume(i);
      log_.Print("restore: resumed {}", name(i));
    }
    // A member that exited on its own since (it would have said why in its log) is found here
    // too: Exited() reaps it.
    (void)members_[i].process.Exited();
    if (!running(i)) {
      absl::Status s = Restart(i);
      log_.Print("restore: restarted {}{}", name(i), s.ok() ? "" : absl::StrCat(": ", s.message()));
      if (!s.ok() && first.ok()) first = s;
    }
  }
  return first;
}

absl::StatusOr<int> FaultCluster::FindLeader(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string problem = "no member is running";
  while (true) {
    int best = -1;
    uint64_t best_term = 0;
    for (int i = 0; i < size(); ++i) {
      // A paused member cannot answer; asking it would only cost the deadline.
      if (!running(i) || paused(i)) continue;
      absl::StatusOr<etcdserverpb::StatusResponse> status =
          cli::EtcdClient(endpoint(i), absl::Milliseconds(500)).Status();
      if (!status.ok()) {
        problem = absl::StrCat(name(i), ": ", status.status().message());
        continue;
      }
      if (status->leader() != 0 && status->leader() == status->header().member_id() &&
          (best < 0 || status->raftterm() > best_term)) {
        best = i;
        best_term = status->raftterm();
      } else if (status->leader() == 0) {
        problem = absl::StrCat(name(i), " knows no leader");
      }
    }
    if (best >= 0) return best;
    if (absl::Now() >= deadline) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("no leader within ", absl::FormatDuration(timeout), " (", problem, ")"));
}

absl::StatusOr<uint64_t> FaultCluster::MemberId(int i) {
  absl::StatusOr<etcdserverpb::StatusResponse> status =
      cli::EtcdClient(endpoint(i), absl::Seconds(1)).Status();
  if (!status.ok()) return status.status();
  return status->header().member_id();
}

absl::Status FaultCluster::TransferLeadership(int leader, int target) {
  absl::StatusOr<uint64_t> id = MemberId(target);
  if (!id.ok()) return id.status();
  return cli::EtcdClient(endpoint(leader), absl::Seconds(5)).MoveLeader(*id).status();
}

absl::StatusOr<uint64_t> FaultCluster::ListedId(int via, int i) {
  absl::StatusOr<etcdserverpb::MemberListResponse> list =
      cli::EtcdClient(endpoint(via), absl::Seconds(2)).MemberList();
  if (!list.ok()) return list.status();
  for (const etcdserverpb::Member& m : list->members()) {
    for (const std::string& url : m.peerurls()) {
      if (url == peer_url(i)) return m.id();
    }
  }
  return absl::NotFoundError(absl::StrCat("no member with peer URL ", peer_url(i)));
}

}  // namespace raftkv::faults
