// replicated_map: three members of raftkv's consensus core in one process replicate a map.
//
// It elects a leader by ticking, proposes writes at the leader and at a follower (which
// forwards them), cuts one member off while more writes commit and the others compact their
// logs, reconnects it so that it catches up from a snapshot, serves a linearizable read at a
// follower with ReadIndex, and finally checks that all three maps are the same and hold every
// write. Exits 0 when they do, 1 otherwise. See docs/embedding.md.
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "command.h"
#include "local_cluster.h"

namespace {

using replicated_map::EncodePut;
using replicated_map::LocalCluster;
using replicated_map::MapNode;

// Generous: an election takes at most two election timeouts (20 ticks) when nothing is lost.
constexpr int kMaxRounds = 200;

absl::Status Run() {
  auto cluster_or = LocalCluster::Found(3);
  if (!cluster_or.ok()) return cluster_or.status();
  LocalCluster& cluster = *cluster_or;
  std::map<std::string, std::string> expected;

  // Nobody is leader at first: members campaign when their election timeout passes.
  if (absl::Status s = cluster.RunUntil([&] { return cluster.Leader() != nullptr; }, kMaxRounds);
      !s.ok()) {
    return s;
  }
  MapNode* leader = cluster.Leader();
  std::cout << "member " << leader->id() << " is leader\n";

  auto propose = [&](MapNode& at, const std::string& key, const std::string& value) {
    expected[key] = value;
    return at.raw().Propose(EncodePut(key, value));
  };
  // Every member but `skip` has applied every write proposed so far.
  auto converged = [&](uint64_t skip = 0) {
    for (const auto& [id, node] : cluster.members()) {
      if (id != skip && node->map() != expected) return false;
    }
    return true;
  };

  for (int i = 0; i < 5; ++i) {
    if (absl::Status s = propose(*leader, "key" + std::to_string(i), "v" + std::to_string(i));
        !s.ok()) {
      return s;
    }
  }
  // A follower forwards a proposal to the leader.
  const uint64_t follower_id = leader->id() % 3 + 1;
  if (absl::Status s = propose(cluster.member(follower_id), "from-follower", "yes"); !s.ok()) {
    return s;
  }
  if (absl::Status s = cluster.RunUntil([&] { return converged(); }, kMaxRounds); !s.ok()) {
    return s;
  }

  // Cut one follower off; the other two still form a quorum and keep committing. Then they
  // compact their logs, so the entries it missed exist only in their snapshots.
  uint64_t lagging_id = 0;
  for (const auto& [id, node] : cluster.members()) {
    if (id != leader->id() && id != follower_id) lagging_id = id;
  }
  cluster.CutOff(lagging_id);
  for (int i = 0; i < 5; ++i) {
    if (absl::Status s = propose(*leader, "key" + std::to_string(i), "w" + std::to_string(i));
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = cluster.RunUntil([&] { return converged(lagging_id); }, kMaxRounds);
      !s.ok()) {
    return s;
  }
  for (const auto& [id, node] : cluster.members()) {
    if (id == lagging_id) continue;
    if (absl::Status s = node->SnapshotAndCompact(); !s.ok()) return s;
  }
  cluster.Reconnect(lagging_id);
  if (absl::Status s = cluster.RunUntil([&] { return converged(); }, kMaxRounds); !s.ok()) {
    return s;
  }
  const MapNode& lagging = cluster.member(lagging_id);
  if (lagging.installed_snapshot() == 0) {
    return absl::InternalError("the member that was cut off caught up without a snapshot");
  }
  std::cout << "member " << lagging_id << " caught up from the snapshot at index "
            << lagging.installed_snapshot() << "\n";

  // A linearizable read at a follower: ask for a read index, wait until the follower has
  // applied that far, then read its own map.
  MapNode& reader = cluster.member(follower_id);
  reader.raw().ReadIndex("read-1");
  if (absl::Status s = cluster.RunUntil(
          [&] {
            auto index = reader.ReadIndexFor("read-1");
            return index.has_value() && reader.applied() >= *index;
          },
          kMaxRounds);
      !s.ok()) {
    return s;
  }
  const std::string read = reader.map().at("key4");
  std::cout << "read key4 = " << read << " at member " << reader.id() << "\n";
  if (read != expected["key4"]) return absl::InternalError("the read missed the last write");

  // converged() held above; the read may not have changed anything, so check once more.
  for (const auto& [id, node] : cluster.members()) {
    if (node->map() != expected) {
      return absl::InternalError("member " + std::to_string(id) + " has a different map");
    }
  }
  std::cout << "all " << cluster.members().size() << " members hold the same " << expected.size()
            << " keys\n";
  return absl::OkStatus();
}

}  // namespace

int main() {
  absl::Status s = Run();
  if (!s.ok()) {
    std::cerr << "replicated_map: " << s << "\n";
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
