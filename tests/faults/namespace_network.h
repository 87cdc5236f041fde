// The members' network in namespace mode: one Linux network namespace per member, each joined
// to a bridge in the root namespace by a veth pair, and the link cuts the nemeses make.
//
//   root namespace: bridge rkvfbr<tag>, 10.78.<x>.1/24 (the harness's clients reach every member)
//   member i:       namespace rkvf<tag>-<i>, eth0 = 10.78.<x>.<10+i>/24, ports 2379 and 2380
//
// <tag> is the harness's pid and a letter, so runs on one machine never share a name; a
// network left behind by a run that died (its pid is gone) is removed by RemoveStale.
//
// Two kinds of cut, both made inside the sender's namespace so that the root namespace (and the
// clients in it) keeps reaching every member:
//
// - Cut(from, to): a blackhole route to `to`'s address. Nothing `from` sends to `to` leaves, and
//   since TCP needs acknowledgements both ways, every connection between the two stalls: it cuts
//   the link in both directions for TCP traffic even when only one side has the route. A
//   partition adds the route on both sides.
// - CutOneWay(from, to): tc drops every packet `from` sends to `to`'s ports 2379 and 2380, that
//   is every connection `from` opens to `to` (its peer stream, forwarded client calls). The
//   connections `to` opens to `from` keep working in both directions: `from` answers them from
//   its own ports 2379/2380, which the filter does not match. raftkv sends raft messages only
//   over the sender's own connection (a client stream to the receiver's peer port), so this is a
//   true one-way cut of raft messages: from→to lost, to→from delivered. (The qdisc is an htb
//   whose only class feeds a pfifo of limit 0; unclassified traffic bypasses the class. This
//   kernel has neither the prio qdisc nor the gact "drop" action.)
//
// Thread-safety: not thread-safe; the harness's main thread drives it.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "run_log.h"

namespace raftkv::faults {

inline constexpr int kNamespaceClientPort = 2379;
inline constexpr int kNamespacePeerPort = 2380;

class NamespaceNetwork {
 public:
  // Builds the bridge and `members` namespaces. Fails when that is not possible here (not root,
  // no `ip`, namespaces refused), leaving nothing behind.
  static absl::StatusOr<std::unique_ptr<NamespaceNetwork>> Create(int members, RunLog& log);
  // Removes namespaces and bridges with this harness's prefix whose run is no longer alive, and
  // kills the processes still running in them.
  static void RemoveStale(RunLog& log);

  // Kills whatever still runs in the namespaces, then deletes them (and so the veths) and the
  // bridge.
  ~NamespaceNetwork();
  NamespaceNetwork(const NamespaceNetwork&) = delete;
  NamespaceNetwork& operator=(const NamespaceNetwork&) = delete;

  int size() const { return members_; }
  std::string address(int i) const;
  std::string namespace_name(int i) const;
  std::string namespace_path(int i) const { return "/var/run/netns/" + namespace_name(i); }
  std::string bridge() const { return "rkvfbr" + tag_; }
  std::string subnet() const;
  // Whether CutOneWay works here, and if not, why.
  bool one_way_supported() const { return one_way_problem_.empty(); }
  const std::string& one_way_problem() const { return one_way_problem_; }

  absl::Status Cut(int from, int to);
  absl::Status CutOneWay(int from, int to);
  // Removes every route and filter the cuts added. Returns the first failure, after trying all.
  absl::Status HealAll();
  bool healed() const { return routes_.empty() && filters_.empty(); }

 private:
  NamespaceNetwork(std::string tag, int octet, int members, RunLog& log);
  absl::Status Build();
  void SetUpOneWayQdisc();
  void Destroy();
  std::string veth(int i) const;
  // Runs `argv` inside member i's namespace.
  absl::Status InNamespace(int i, std::vector<std::string> argv);

  const std::string tag_;
  const int octet_;
  const int members_;
  RunLog& log_;
  bool bridge_created_ = false;
  std::vector<bool> namespace_created_;
  std::string one_way_problem_;
  std::set<std::pair<int, int>> routes_;   // Cut(from, to) in force
  std::set<std::pair<int, int>> filters_;  // CutOneWay(from, to) in force
};

}  // namespace raftkv::faults
