// The cluster under test: raftkv-server processes at fixed addresses (member i keeps its
// addresses and data directory for the whole run, also when it is replaced by a new member), and
// what the nemeses do to them: kill and restart, pause and resume, find the leader, move
// leadership, replace a member.
//
// Member i is founded as n<i+1>; its replacements are n<i+1>-r1, n<i+1>-r2, ... (new member ids,
// same addresses, an emptied data directory). Every member's output goes to
// <run dir>/n<i+1>.log, across restarts and replacements.
//
// Thread-safety: not thread-safe; the harness's main thread drives it (it must be the thread
// that lives longest: the servers die with it, see member_process.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "member_process.h"
#include "run_log.h"

namespace raftkv::faults {

struct ClusterLayout {
  std::string server_path;
  std::string run_dir;
  std::string token;
  // Per member: the address it listens on, its ports, and the network namespace it runs in
  // (/var/run/netns/<name>, or "" to run in the harness's own).
  std::vector<std::string> hosts;
  std::vector<int> client_ports;
  std::vector<int> peer_ports;
  std::vector<std::string> netns_paths;
  int heartbeat_ms = 100;
  int election_timeout_ms = 1000;
  // Small, so that snapshots and log compaction happen during a run and a member that was
  // down (or is new) may have to catch up from a snapshot.
  uint64_t snapshot_count = 500;
};

class FaultCluster {
 public:
  FaultCluster(ClusterLayout layout, RunLog& log);
  // Kills every member still running.
  ~FaultCluster();
  FaultCluster(const FaultCluster&) = delete;
  FaultCluster& operator=(const FaultCluster&) = delete;

  int size() const { return static_cast<int>(members_.size()); }
  std::string name(int i) const;
  std::string endpoint(int i) const;  // host:port for clients
  std::string client_url(int i) const;
  std::string peer_url(int i) const;
  std::string data_dir(int i) const;
  std::string log_path(int i) const;
  std::vector<std::string> Endpoints() const;

  absl::Status StartFounders();
  // Starts member i again with the command line it last started with (its data directory is
  // kept, so it recovers its state).
  absl::Status Restart(int i);
  void Kill(int i) { members_[i].process.Kill(); }
  void Pause(int i) { members_[i].process.Pause(); }
  void Resume(int i) { members_[i].process.Resume(); }
  bool running(int i) const { return members_[i].process.running(); }
  bool paused(int i) const { return members_[i].process.paused(); }
  // Resumes every paused member and restarts every member that is down.
  absl::Status RestoreAll();

  // The member that says it leads, in the highest term any member reports; waits up to
  // `timeout` for one.
  absl::StatusOr<int> FindLeader(absl::Duration timeout);
  // Member i's raft id, as it reports it.
  absl::StatusOr<uint64_t> MemberId(int i);
  // Asks `leader` to hand leadership to `target` (Maintenance.MoveLeader) and waits until done.
  absl::Status TransferLeadership(int leader, int target);
  // Removes member i (Cluster.MemberRemove through the leader), waits for it to stop, empties
  // its data directory, adds a new member with the same peer URL (Cluster.MemberAdd) and starts
  // it with --initial-cluster-state existing. REQUIRES: member i is not the leader.
  // (member_replacement.cc)
  absl::Status Replace(int i);

 private:
  struct Member {
    int generation = 0;  // 0: the founder; k: its k-th replacement
    std::vector<std::string> args;
    MemberProcess process;
  };

  std::vector<std::string> ServerArgs(int i, const std::string& initial_cluster,
                                      const std::string& state) const;
  absl::Status StartWith(int i, std::vector<std::string> args);
  // Member i's id in the cluster's member list (found by its peer URL), asking `via`.
  absl::StatusOr<uint64_t> ListedId(int via, int i);

  ClusterLayout layout_;
  RunLog& log_;
  std::vector<Member> members_;
};

}  // namespace raftkv::faults
