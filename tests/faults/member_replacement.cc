// FaultCluster::Replace: a member is removed, its disk wiped, and a new member (a new id) is
// added at the same addresses and started empty, as an operator replaces a failed machine. The
// new member learns everything from the leader (entries or a snapshot).
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "etcd_client.h"
#include "fault_cluster.h"

namespace raftkv::faults {
namespace {

constexpr absl::Duration kPatience = absl::Seconds(30);

}  // namespace

absl::Status FaultCluster::Replace(int i) {
  const absl::Time deadline = absl::Now() + kPatience;
  absl::StatusOr<int> leader = FindLeader(absl::Seconds(10));
  if (!leader.ok()) return leader.status();
  if (*leader == i) return absl::FailedPreconditionError(name(i) + " leads");
  absl::StatusOr<uint64_t> old_id = ListedId(*leader, i);
  if (!old_id.ok()) return old_id.status();

  // Remove. A call that timed out may still have been applied: the member list decides.
  while (true) {
    absl::Status removed =
        cli::EtcdClient(endpoint(*leader), absl::Seconds(5)).MemberRemove(*old_id).status();
    absl::StatusOr<uint64_t> listed = ListedId(*leader, i);
    if (removed.ok() || absl::IsNotFound(listed.status())) break;
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("removing ", name(i), ": ", removed.message()));
    }
    log_.Print("replace: removing {} failed ({}); retrying", name(i),
               std::string(removed.message()));
    absl::SleepFor(absl::Milliseconds(500));
    if (absl::StatusOr<int> now = FindLeader(absl::Seconds(5)); now.ok() && *now != i) {
      leader = now;
    }
  }
  // A removed member stops once it applies its own removal (as etcd's does).
  const absl::Time stop_by = absl::Now() + absl::Seconds(10);
  while (running(i) && !members_[i].process.Exited() && absl::Now() < stop_by) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  const bool stopped_itself = !running(i);
  Kill(i);
  log_.Print("replace: {} (id {:x}) removed; it {}", name(i), *old_id,
             stopped_itself ? "stopped by itself" : "was still running after 10 s: killed it");

  std::error_code ignored;
  std::filesystem::remove_all(data_dir(i), ignored);
  members_[i].args.clear();  // no restart until the new member has a command line
  ++members_[i].generation;

  // Add the new member. Again an add that timed out may have been applied.
  etcdserverpb::MemberAddResponse added;
  while (true) {
    absl::StatusOr<etcdserverpb::MemberAddResponse> add =
        cli::EtcdClient(endpoint(*leader), absl::Seconds(5)).MemberAdd(peer_url(i));
    if (add.ok()) {
      added = *std::move(add);
      break;
    }
    absl::StatusOr<etcdserverpb::MemberListResponse> list =
        cli::EtcdClient(endpoint(*leader), absl::Seconds(2)).MemberList();
    bool listed = false;
    if (list.ok()) {
      for (const etcdserverpb::Member& m : list->members()) {
        if (m.peerurls_size() > 0 && m.peerurls(0) == peer_url(i)) listed = true;
      }
      if (listed) {
        *added.mutable_members() = list->members();
        break;
      }
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("adding ", name(i), ": ", add.status().message()));
    }
    log_.Print("replace: adding {} failed ({}); retrying", name(i),
               std::string(add.status().message()));
    absl::SleepFor(absl::Milliseconds(500));
    if (absl::StatusOr<int> now = FindLeader(absl::Seconds(5)); now.ok()) leader = now;
  }

  // --initial-cluster for a joining member: the running members, which it asks for the
  // cluster, and itself.
  std::vector<std::string> initial;
  for (const etcdserverpb::Member& m : added.members()) {
    if (m.peerurls_size() == 0) continue;
    if (m.peerurls(0) == peer_url(i)) {
      initial.push_back(name(i) + "=" + peer_url(i));
    } else if (!m.name().empty()) {
      initial.push_back(m.name() + "=" + m.peerurls(0));
    }
  }
  {
    std::ofstream log(log_path(i), std::ios::app);
    log << "==== fault harness: " << name(i) << " replaces the removed member here ====\n";
  }
  if (absl::Status s = StartWith(i, ServerArgs(i, absl::StrJoin(initial, ","), "existing"));
      !s.ok()) {
    return s;
  }
  // Started once it answers; it may still be catching up.
  while (absl::Now() < deadline) {
    if (MemberId(i).ok()) {
      log_.Print("replace: {} joined at {} (--initial-cluster {})", name(i), peer_url(i),
                 absl::StrJoin(initial, ","));
      return absl::OkStatus();
    }
    if (members_[i].process.Exited()) {
      return absl::InternalError(absl::StrCat(name(i), " exited after joining; see ", log_path(i)));
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::DeadlineExceededError(absl::StrCat(name(i), " did not answer after joining"));
}

}  // namespace raftkv::faults
