// The scenarios: each drives a cluster through one situation from the Raft paper or from the
// failures real deployments see, and states what must hold afterwards. Safety is checked
// throughout by the SafetyChecker; the expectations here add the liveness and behaviour each
// situation is about.
#include "sim/scenarios.h"

#include <algorithm>

#include "fmt/format.h"
#include "sim/nemesis.h"

namespace raftkv::sim {
namespace {

constexpr TimeUs kMs = 1'000;
constexpr TimeUs kSecond = 1'000'000;

void Expect(Cluster& c, bool condition, const std::string& what) {
  if (!condition) c.checker().Report(kScenario, fmt::format("expected: {}", what));
}

// Highest term among up nodes that lead, and whether exactly one node leads in it.
bool ExactlyOneLeaderInHighestTerm(Cluster& c) {
  const uint64_t leader = c.Leader();
  if (leader == 0) return false;
  for (uint64_t id : c.Leaders()) {
    if (id != leader && c.node(id).term() == c.node(leader).term()) return false;
  }
  return true;
}

uint64_t WaitForLeader(Cluster& c, TimeUs timeout_us = 3 * kSecond) {
  c.RunUntil([&] { return ExactlyOneLeaderInHighestTerm(c); }, timeout_us);
  return c.Leader();
}

// Members announce themselves through the log once they know the leader (as etcd's do);
// scenarios that count entries or messages start once that is over.
void WaitForPublished(Cluster& c) {
  Expect(c, c.RunUntil([&] { return c.AllPublished(); }, 2 * kSecond),
         "every member publishes its attributes");
}

// A leader among `group` whose term no other member of the group exceeds.
uint64_t LeaderWithin(Cluster& c, const std::vector<uint64_t>& group) {
  uint64_t max_term = 0;
  for (uint64_t id : group) {
    if (c.IsUp(id)) max_term = std::max(max_term, c.node(id).term());
  }
  for (uint64_t id : group) {
    if (c.IsUp(id) && c.node(id).role() == raft::StateRole::kLeader &&
        c.node(id).term() == max_term) {
      return id;
    }
  }
  return 0;
}

uint64_t OtherThan(Cluster& c, std::vector<uint64_t> excluded) {
  for (uint64_t id : c.node_ids()) {
    if (std::find(excluded.begin(), excluded.end(), id) == excluded.end()) return id;
  }
  return 0;
}

std::vector<uint64_t> Without(const std::vector<uint64_t>& ids, std::vector<uint64_t> excluded) {
  std::vector<uint64_t> out;
  for (uint64_t id : ids) {
    if (std::find(excluded.begin(), excluded.end(), id) == excluded.end()) out.push_back(id);
  }
  return out;
}

void AgreeOrReport(Cluster& c, const std::string& value, int expected,
                   TimeUs timeout_us = 10 * kSecond) {
  if (c.failed()) return;
  Expect(c, c.Agree(value, expected, timeout_us) != 0,
         fmt::format("{} nodes apply value {} within {} ms", expected, value, timeout_us / kMs));
}

// ---- configurations ----

void Reliable3(ClusterOptions& o, base::Rand&, const RunOverrides& ov) {
  o.nodes = ov.nodes != 0 ? ov.nodes : 3;
}
void Reliable5(ClusterOptions& o, base::Rand&, const RunOverrides& ov) {
  o.nodes = ov.nodes != 0 ? ov.nodes : 5;
}
void Reliable7(ClusterOptions& o, base::Rand&, const RunOverrides& ov) {
  o.nodes = ov.nodes != 0 ? ov.nodes : 7;
}
void Unreliable5(ClusterOptions& o, base::Rand&, const RunOverrides& ov) {
  o.nodes = ov.nodes != 0 ? ov.nodes : 5;
  o.network = NetworkFaults::Unreliable();
}
void Snapshots3(ClusterOptions& o, base::Rand&, const RunOverrides& ov) {
  o.nodes = ov.nodes != 0 ? ov.nodes : 3;
  o.node.snapshot_interval_entries = 10;
  o.node.compaction_keep_entries = 3;
}
void SnapshotsUnreliable5(ClusterOptions& o, base::Rand& r, const RunOverrides& ov) {
  Unreliable5(o, r, ov);
  o.node.snapshot_interval_entries = 8;
  o.node.compaction_keep_entries = 2;
}
void PreVote3(ClusterOptions& o, base::Rand&, const RunOverrides& ov) {
  o.nodes = ov.nodes != 0 ? ov.nodes : 3;
  o.node.pre_vote = true;
}
void CheckQuorum3(ClusterOptions& o, base::Rand&, const RunOverrides& ov) {
  o.nodes = ov.nodes != 0 ? ov.nodes : 3;
  o.node.check_quorum = true;
}
// Every knob drawn from the seed: size, network, snapshots, PreVote, CheckQuorum, reads.
void Mixed(ClusterOptions& o, base::Rand& r, const RunOverrides& ov) {
  const uint64_t size_roll = r.Uniform(100);
  o.nodes = ov.nodes != 0 ? ov.nodes : (size_roll < 50 ? 3 : size_roll < 85 ? 5 : 7);
  o.network = r.Bernoulli(0.5) ? NetworkFaults::Unreliable() : NetworkFaults::Reliable();
  const uint64_t snapshot_choices[] = {0, 5, 20};
  o.node.snapshot_interval_entries = snapshot_choices[r.Uniform(3)];
  o.node.compaction_keep_entries = r.Uniform(5);
  o.node.pre_vote = r.Bernoulli(0.5);
  o.node.check_quorum = r.Bernoulli(0.5);
  o.node.max_size_per_msg_bytes = r.Bernoulli(0.5) ? 256 : 4096;
  o.node.max_inflight_msgs = r.Bernoulli(0.3) ? 2 : 64;
  o.workload.clients = 2 + static_cast<int>(r.Uniform(3));
  o.workload.keys = 1 + static_cast<int>(r.Uniform(3));
  o.workload.read_index = r.Bernoulli(0.5);
}

// ---- bodies ----

void FirstElection(Cluster& c, const RunOverrides&) {
  const uint64_t leader = WaitForLeader(c, 2 * kSecond);
  Expect(c, leader != 0, "a leader is elected within 2 s of start");
  if (leader == 0) return;
  const uint64_t term = c.node(leader).term();
  c.RunFor(2 * kSecond);
  Expect(c, c.Leader() == leader && c.node(leader).term() == term,
         "without failures the leader and its term stay the same");
  for (uint64_t id : c.node_ids()) {
    Expect(c, c.node(id).term() == term && c.node(id).leader() == leader,
           fmt::format("node {} knows leader {} of term {}", id, leader, term));
  }
}

void ReElection(Cluster& c, const RunOverrides&) {
  const uint64_t first = WaitForLeader(c);
  Expect(c, first != 0, "a first leader is elected");
  if (first == 0) return;
  c.Isolate(first);
  const auto rest = Without(c.node_ids(), {first});
  Expect(c, c.RunUntil([&] { return LeaderWithin(c, rest) != 0; }, 3 * kSecond),
         "the others elect a new leader when the leader is cut off");
  c.Heal();
  Expect(c, c.RunUntil([&] { return c.Leaders().size() == 1; }, 3 * kSecond),
         "once the old leader rejoins, one leader remains");
  // With no majority anywhere, nobody can be elected.
  const uint64_t leader = c.Leader();
  const uint64_t term = leader != 0 ? c.node(leader).term() : 0;
  std::vector<std::vector<uint64_t>> alone;
  for (uint64_t id : c.node_ids()) alone.push_back({id});
  c.Partition(alone);
  c.RunFor(2 * kSecond);
  for (uint64_t id : c.node_ids()) {
    Expect(c, c.node(id).role() != raft::StateRole::kLeader || c.node(id).term() <= term,
           fmt::format("node {} is not elected without a majority", id));
  }
  c.Heal();
  Expect(c, WaitForLeader(c) != 0, "a leader is elected once the network heals");
}

void ManyElections(Cluster& c, const RunOverrides&) {
  Expect(c, WaitForLeader(c) != 0, "a first leader is elected");
  for (int round = 0; round < 10 && !c.failed(); ++round) {
    std::vector<uint64_t> ids = c.node_ids();
    for (size_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[c.rand().Uniform(i)]);
    const size_t minority = (ids.size() - 1) / 2;
    std::vector<std::vector<uint64_t>> groups;
    for (size_t i = 0; i < minority; ++i) groups.push_back({ids[i]});
    std::vector<uint64_t> majority(ids.begin() + minority, ids.end());
    groups.push_back(majority);
    c.Partition(groups);
    Expect(c, c.RunUntil([&] { return LeaderWithin(c, majority) != 0; }, 3 * kSecond),
           fmt::format("round {}: the connected majority has a leader", round));
    c.Heal();
  }
  Expect(c, WaitForLeader(c) != 0, "a leader once everyone is connected again");
}

void BasicAgreement(Cluster& c, const RunOverrides&) {
  WaitForLeader(c);
  WaitForPublished(c);
  uint64_t previous = 0;
  for (int i = 1; i <= 3; ++i) {
    const std::string value = fmt::format("basic{}", i);
    Expect(c, c.AppliedCount(value) == 0, "nothing applied before proposing");
    const uint64_t index = c.Agree(value, c.options().nodes, 5 * kSecond);
    Expect(c, index != 0, fmt::format("all nodes apply {}", value));
    Expect(c, previous == 0 || index == previous + 1,
           fmt::format("{} lands right after the previous value (index {}, then {})", value,
                       previous, index));
    previous = index;
  }
}

void EachEntrySentOnce(Cluster& c, const RunOverrides&) {
  WaitForLeader(c);
  WaitForPublished(c);
  AgreeOrReport(c, "warm-up", c.options().nodes);
  c.network().ResetStats();
  constexpr int kEntries = 10;
  constexpr size_t kValueBytes = 5000;
  for (int i = 0; i < kEntries; ++i) {
    std::string value = fmt::format("big{}-", i);
    value.resize(kValueBytes, static_cast<char>('a' + i));
    AgreeOrReport(c, value, c.options().nodes);
  }
  const NetworkStats& stats = c.network().stats();
  int max_sends = 0;
  for (const auto& [key, sends] : stats.entry_sends) max_sends = std::max(max_sends, sends);
  Expect(
      c, max_sends <= 2,
      fmt::format("each entry is sent to each follower about once (at most {} times)", max_sends));
  const uint64_t followers = static_cast<uint64_t>(c.options().nodes - 1);
  const uint64_t payload = kEntries * kValueBytes * followers;
  Expect(c, stats.bytes_sent <= payload * 3 / 2 + 20'000,
         fmt::format("traffic ({} bytes) stays near the payload ({} bytes)", stats.bytes_sent,
                     payload));
}

void FollowerCutOff(Cluster& c, const RunOverrides&) {
  const int n = c.options().nodes;
  const uint64_t leader = WaitForLeader(c);
  AgreeOrReport(c, "before", n);
  const uint64_t follower = OtherThan(c, {leader});
  c.Isolate(follower);
  AgreeOrReport(c, "during1", n - 1);
  AgreeOrReport(c, "during2", n - 1);
  c.Heal();
  AgreeOrReport(c, "after", n);
  Expect(c, c.IsUp(follower) && c.node(follower).applied() >= c.AppliedIndex("during2"),
         "the reconnected follower catches up on what it missed");
}

void NoCommitWithoutMajority(Cluster& c, const RunOverrides&) {
  const int n = c.options().nodes;
  const uint64_t leader = WaitForLeader(c);
  AgreeOrReport(c, "before", n);
  if (c.failed()) return;
  const uint64_t keep = OtherThan(c, {leader});
  std::vector<std::vector<uint64_t>> groups{{leader, keep}};
  for (uint64_t id : Without(c.node_ids(), {leader, keep})) groups.push_back({id});
  c.Partition(groups);
  Expect(c, c.ProposeAt(leader, "minority"), "the cut-off leader accepts the proposal");
  const uint64_t committed = c.checker().committed_index();
  c.RunFor(2 * kSecond);
  Expect(c, c.AppliedCount("minority") == 0, "an entry replicated to a minority is not applied");
  Expect(c, c.checker().committed_index() == committed,
         "nothing commits while no majority is connected");
  c.Heal();
  AgreeOrReport(c, "after", n);
}

void ConcurrentProposals(Cluster& c, const RunOverrides&) {
  const int n = c.options().nodes;
  const uint64_t leader = WaitForLeader(c);
  AgreeOrReport(c, "first", n);
  std::vector<std::string> values;
  for (int i = 0; i < 5; ++i) values.push_back(fmt::format("concurrent{}", i));
  for (const auto& v : values) Expect(c, c.ProposeAt(leader, v), "the leader accepts " + v);
  const bool all = c.RunUntil(
      [&] {
        return std::all_of(values.begin(), values.end(),
                           [&](const auto& v) { return c.AppliedCount(v) == n; });
      },
      5 * kSecond);
  Expect(c, all, "all concurrent proposals are applied everywhere");
  std::vector<uint64_t> indexes;
  for (const auto& v : values) indexes.push_back(c.AppliedIndex(v));
  std::sort(indexes.begin(), indexes.end());
  Expect(c, std::adjacent_find(indexes.begin(), indexes.end()) == indexes.end(),
         "concurrent proposals get distinct indexes");
}

void PartitionedLeaderRejoins(Cluster& c, const RunOverrides&) {
  const int n = c.options().nodes;
  AgreeOrReport(c, "first", n);
  const uint64_t old_leader = c.Leader();
  c.Isolate(old_leader);
  for (int i = 0; i < 3; ++i) c.ProposeAt(old_leader, fmt::format("stale{}", i));
  AgreeOrReport(c, "second", n - 1);
  const uint64_t new_leader = c.Leader();
  // The new leader is cut off too; the old one comes back with its stale entries.
  c.Heal();
  c.Isolate(new_leader);
  AgreeOrReport(c, "third", n - 1);
  c.Heal();
  AgreeOrReport(c, "fourth", n);
  for (int i = 0; i < 3; ++i) {
    Expect(c, c.AppliedIndex(fmt::format("stale{}", i)) == 0,
           "entries only the deposed leader had are never applied");
  }
}

void FarBehindFollower(Cluster& c, const RunOverrides&) {
  const int n = c.options().nodes;  // 5
  AgreeOrReport(c, "start", n);
  const uint64_t l1 = c.Leader();
  const uint64_t f1 = OtherThan(c, {l1});
  const auto others = Without(c.node_ids(), {l1, f1});
  // The old leader and one follower collect 50 entries that never commit.
  c.Partition({{l1, f1}, others});
  for (int i = 0; i < 50; ++i) c.ProposeAt(l1, fmt::format("lost{}", i));
  for (int i = 0; i < 50 && !c.failed(); ++i) {
    AgreeOrReport(c, fmt::format("kept{}", i), static_cast<int>(others.size()));
  }
  // The majority side moves on; then the old pair and one node of it form the majority.
  const uint64_t bridge = Without(others, {c.Leader()}).front();
  c.Partition({{l1, f1, bridge}, Without(others, {bridge})});
  for (int i = 0; i < 50 && !c.failed(); ++i) {
    AgreeOrReport(c, fmt::format("more{}", i), 3);
  }
  c.Heal();
  const TimeUs start = c.now_us();
  AgreeOrReport(c, "end", n, 2 * kSecond);
  Expect(c, c.now_us() - start <= 2 * kSecond, "the far-behind followers are brought back quickly");
  for (int i = 0; i < 50; ++i) {
    Expect(c, c.AppliedIndex(fmt::format("lost{}", i)) == 0,
           "the uncommitted entries of the old leader are overwritten");
  }
}

void PersistOneNode(Cluster& c, const RunOverrides&) {
  const int n = c.options().nodes;
  AgreeOrReport(c, "one", n);
  const uint64_t follower = OtherThan(c, {c.Leader()});
  c.Crash(follower);
  AgreeOrReport(c, "two", n - 1);
  c.Restart(follower);
  AgreeOrReport(c, "three", n);
  Expect(c, c.IsUp(follower) && c.node(follower).applied() >= c.AppliedIndex("three"),
         "the restarted follower recovers its log and catches up");
}

void PersistLeader(Cluster& c, const RunOverrides&) {
  const int n = c.options().nodes;
  AgreeOrReport(c, "one", n);
  const uint64_t leader = c.Leader();
  c.Crash(leader);
  AgreeOrReport(c, "two", n - 1);
  c.Restart(leader);
  AgreeOrReport(c, "three", n);
}

void PersistAllNodes(Cluster& c, const RunOverrides&) {
  const int n = c.options().nodes;
  AgreeOrReport(c, "one", n);
  for (int round = 0; round < 3 && !c.failed(); ++round) {
    for (uint64_t id : c.node_ids()) c.Crash(id);
    for (uint64_t id : c.node_ids()) c.Restart(id);
    AgreeOrReport(c, fmt::format("after-restart{}", round), n);
  }
  Expect(c, c.AppliedIndex("one") != 0 && c.AppliedCount("one") == n,
         "entries committed before the crashes survive them");
}

// Figure 8 of the Raft paper: leaders crash right after appending, so entries of old terms
// sit on some nodes uncommitted; a new leader must never count replicas of an old-term entry
// to commit it (§5.4.2).
void Figure8(Cluster& c, const RunOverrides& ov) {
  const int n = c.options().nodes;
  AgreeOrReport(c, "start", 1);
  const int rounds = ov.steps != 0 ? ov.steps : 100;
  int up = n;
  for (int i = 0; i < rounds && !c.failed(); ++i) {
    const uint64_t leader = c.Leader();
    if (leader != 0) c.ProposeAt(leader, fmt::format("f8-{}", i));
    c.RunFor(c.rand().Bernoulli(0.1) ? c.rand().Uniform(500 * kMs) : c.rand().Uniform(15 * kMs));
    if (leader != 0 && c.IsUp(leader)) {
      c.Crash(leader);
      --up;
    }
    if (up < (n + 1) / 2) {
      std::vector<uint64_t> down;
      for (uint64_t id : c.node_ids()) {
        if (!c.IsUp(id)) down.push_back(id);
      }
      c.Restart(down[c.rand().Uniform(down.size())]);
      ++up;
    }
  }
  for (uint64_t id : c.node_ids()) c.Restart(id);
  AgreeOrReport(c, "end", n);
}

void Figure8Unreliable(Cluster& c, const RunOverrides& ov) {
  const int n = c.options().nodes;
  AgreeOrReport(c, "start", 1);
  const int rounds = ov.steps != 0 ? ov.steps : 200;
  std::vector<uint64_t> cut;
  for (int i = 0; i < rounds && !c.failed(); ++i) {
    const uint64_t leader = c.Leader();
    if (leader != 0) c.ProposeAt(leader, fmt::format("f8u-{}", i));
    c.RunFor(c.rand().Bernoulli(0.1) ? c.rand().Uniform(500 * kMs) : c.rand().Uniform(15 * kMs));
    if (leader != 0 && c.rand().Bernoulli(0.5)) {
      c.Isolate(leader);
      cut.push_back(leader);
    }
    if (cut.size() * 2 >= static_cast<size_t>(n)) {
      c.Heal();
      cut.clear();
    }
  }
  c.Heal();
  c.SetNetwork(NetworkFaults::Reliable());
  AgreeOrReport(c, "end", n);
}

void UnreliableAgreement(Cluster& c, const RunOverrides&) {
  c.workload().Start();
  for (int i = 0; i < 20 && !c.failed(); ++i) {
    AgreeOrReport(c, fmt::format("u{}", i), 1);
  }
  c.RunFor(3 * kSecond);
  c.SetNetwork(NetworkFaults::Reliable());
  AgreeOrReport(c, "final", c.options().nodes);
}

void RunNemesis(Cluster& c, const RunOverrides& ov, const NemesisOptions& options,
                int default_steps) {
  Nemesis nemesis(&c, options);
  c.StartClients();
  const int steps = ov.steps != 0 ? ov.steps : default_steps;
  for (int i = 0; i < steps && !c.failed(); ++i) {
    c.RunFor(50 * kMs + c.rand().Uniform(350 * kMs));
    nemesis.Step();
  }
  c.RunFor(200 * kMs);
}

void ChurnReliable(Cluster& c, const RunOverrides& ov) {
  RunNemesis(c, ov,
             NemesisOptions{.partitions = false,
                            .unreliable_network = false,
                            .membership_changes = false,
                            .leadership_transfers = false},
             30);
}

void ChurnUnreliable(Cluster& c, const RunOverrides& ov) {
  RunNemesis(c, ov,
             NemesisOptions{.partitions = true,
                            .unreliable_network = false,
                            .membership_changes = false,
                            .leadership_transfers = false},
             30);
}

void SnapshotToLaggingFollower(Cluster& c, const RunOverrides&) {
  const int n = c.options().nodes;
  AgreeOrReport(c, "start", n);
  const uint64_t follower = OtherThan(c, {c.Leader()});
  c.Isolate(follower);
  for (int i = 0; i < 40 && !c.failed(); ++i) AgreeOrReport(c, fmt::format("s{}", i), n - 1);
  c.Heal();
  AgreeOrReport(c, "end", n);
  Expect(c, c.node(follower).snapshots_installed() > 0,
         "the lagging follower is caught up with a snapshot");
}

void SnapshotToRestartedFollower(Cluster& c, const RunOverrides&) {
  const int n = c.options().nodes;
  AgreeOrReport(c, "start", n);
  const uint64_t follower = OtherThan(c, {c.Leader()});
  c.Crash(follower);
  for (int i = 0; i < 40 && !c.failed(); ++i) AgreeOrReport(c, fmt::format("s{}", i), n - 1);
  c.Restart(follower);
  AgreeOrReport(c, "end", n);
  Expect(c, c.node(follower).snapshots_installed() > 0,
         "the restarted follower is caught up with a snapshot");
}

void SnapshotsUnderFaults(Cluster& c, const RunOverrides& ov) {
  RunNemesis(c, ov, NemesisOptions{.membership_changes = false, .leadership_transfers = false}, 30);
}

void MembershipChurn(Cluster& c, const RunOverrides& ov) {
  RunNemesis(c, ov, NemesisOptions{.unreliable_network = true}, 40);
}

void LeadershipTransfer(Cluster& c, const RunOverrides&) {
  AgreeOrReport(c, "start", c.options().nodes);
  for (int round = 0; round < 3 && !c.failed(); ++round) {
    const uint64_t leader = c.Leader();
    const uint64_t target = OtherThan(c, {leader});
    c.Note(fmt::format("transfer leadership {} -> {}", leader, target));
    c.node(leader).TransferLeader(target);
    Expect(c, c.RunUntil([&] { return c.Leader() == target; }, 2 * kSecond),
           fmt::format("leadership moves from {} to {}", leader, target));
    AgreeOrReport(c, fmt::format("after-transfer{}", round), c.options().nodes);
  }
}

void LeadershipTransferUnderFaults(Cluster& c, const RunOverrides& ov) {
  RunNemesis(
      c, ov,
      NemesisOptions{.crashes = true, .membership_changes = false, .leadership_transfers = true},
      30);
}

void PreVotePartition(Cluster& c, const RunOverrides&) {
  const uint64_t leader = WaitForLeader(c);
  AgreeOrReport(c, "start", c.options().nodes);
  const uint64_t term = c.node(leader).term();
  const uint64_t follower = OtherThan(c, {leader});
  c.Isolate(follower);
  c.RunFor(3 * kSecond);
  Expect(c, c.node(follower).term() == term,
         "with PreVote an isolated follower does not raise its term");
  c.Heal();
  c.RunFor(1 * kSecond);
  Expect(c, c.Leader() == leader && c.node(leader).term() == term,
         "with PreVote the returning follower does not disrupt the leader");
}

void CheckQuorumPartition(Cluster& c, const RunOverrides&) {
  const uint64_t leader = WaitForLeader(c);
  AgreeOrReport(c, "start", c.options().nodes);
  c.Isolate(leader);
  // Election timeouts are at most 2 * election_ticks ticks; allow two of them.
  const TimeUs bound = 4 * c.options().node.election_ticks * c.options().tick_us;
  Expect(c, c.RunUntil([&] { return c.node(leader).role() != raft::StateRole::kLeader; }, bound),
         "with CheckQuorum a leader cut off from the majority steps down");
  const auto rest = Without(c.node_ids(), {leader});
  Expect(c, c.RunUntil([&] { return LeaderWithin(c, rest) != 0; }, 3 * kSecond),
         "the majority elects a new leader");
  c.Heal();
  AgreeOrReport(c, "end", c.options().nodes);
}

void MixedFaults(Cluster& c, const RunOverrides& ov) { RunNemesis(c, ov, NemesisOptions{}, 15); }

// `mixed` with lease clients and watchers: the same knobs, drawn the same way, plus leases that
// are kept alive, expire or are revoked across every fault, and watchers on two prefixes.
void MixedLeases(ClusterOptions& o, base::Rand& r, const RunOverrides& ov) {
  Mixed(o, r, ov);
  o.leases_and_watches = true;
  o.lease_clients.clients = 1 + static_cast<int>(r.Uniform(2));
}

}  // namespace

const std::vector<Scenario>& ScenarioTable() {
  static const std::vector<Scenario> table = {
      {"first_election", "one leader is elected and stays", Reliable3, FirstElection, false},
      {"reelection", "a new leader after the leader is cut off; none without a majority", Reliable3,
       ReElection, false},
      {"many_elections", "a majority elects a leader under repeated random partitions", Reliable7,
       ManyElections, false},
      {"basic_agreement", "values are applied everywhere in order", Reliable3, BasicAgreement,
       false},
      {"each_entry_once", "entries are shipped to each follower about once", Reliable3,
       EachEntrySentOnce, false},
      {"follower_cut_off", "agreement continues while a follower is cut off", Reliable3,
       FollowerCutOff, false},
      {"no_commit_without_majority", "a leader without a majority commits nothing", Reliable5,
       NoCommitWithoutMajority, false},
      {"concurrent_proposals", "simultaneous proposals all commit at distinct indexes", Reliable3,
       ConcurrentProposals, false},
      {"partitioned_leader_rejoins", "a deposed leader's stale entries are discarded", Reliable3,
       PartitionedLeaderRejoins, false},
      {"far_behind_follower", "a leader quickly repairs followers with long wrong logs", Reliable5,
       FarBehindFollower, false},
      {"persist_one_node", "a crashed follower restarts from its persisted log", Reliable3,
       PersistOneNode, false},
      {"persist_leader", "a crashed leader restarts from its persisted log", Reliable3,
       PersistLeader, false},
      {"persist_all_nodes", "the whole cluster crashes and restarts", Reliable3, PersistAllNodes,
       false},
      {"figure8", "the paper's Figure 8: leaders crash after appending", Reliable5, Figure8, false},
      {"figure8_unreliable", "Figure 8 with a lossy, reordering network", Unreliable5,
       Figure8Unreliable, false},
      {"unreliable_agreement", "clients and agreement over a lossy network", Unreliable5,
       UnreliableAgreement, true},
      {"churn_reliable", "nodes crash and restart under client load", Reliable5, ChurnReliable,
       true},
      {"churn_unreliable", "crashes, restarts and partitions over a lossy network", Unreliable5,
       ChurnUnreliable, true},
      {"snapshot_lagging_follower", "a follower cut off past compaction gets a snapshot",
       Snapshots3, SnapshotToLaggingFollower, false},
      {"snapshot_restarted_follower", "a follower down past compaction gets a snapshot", Snapshots3,
       SnapshotToRestartedFollower, false},
      {"snapshot_faults", "snapshots and compaction under crashes and a lossy network",
       SnapshotsUnreliable5, SnapshotsUnderFaults, true},
      {"membership_churn", "add, remove, promote and joint changes under faults", Unreliable5,
       MembershipChurn, true},
      {"leadership_transfer", "leadership moves to the chosen node", Reliable5, LeadershipTransfer,
       false},
      {"leadership_transfer_faults", "leadership transfers under crashes and partitions",
       Unreliable5, LeadershipTransferUnderFaults, true},
      {"prevote_partition", "PreVote keeps a partitioned follower from disrupting", PreVote3,
       PreVotePartition, false},
      {"check_quorum_partition", "CheckQuorum makes a cut-off leader step down", CheckQuorum3,
       CheckQuorumPartition, false},
      {"mixed", "every fault at once, every knob drawn from the seed", Mixed, MixedFaults, true},
      {"mixed_leases", "mixed, with leases kept alive, expiring and revoked, and watchers",
       MixedLeases, MixedFaults, true},
  };
  return table;
}

}  // namespace raftkv::sim
