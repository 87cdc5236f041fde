#include "sim/nemesis.h"

#include <algorithm>
#include <vector>

#include "fmt/format.h"

namespace raftkv::sim {

uint64_t Nemesis::RandomNode() {
  const auto ids = cluster_->node_ids();
  return ids[cluster_->rand().Uniform(ids.size())];
}

std::string Nemesis::Step() {
  base::Rand& rand = cluster_->rand();
  // Weighted choice; actions that are disabled fall through to healing.
  const uint64_t roll = rand.Uniform(100);
  std::string what;
  if (roll < 22) {
    if (options_.partitions) what = Partition();
  } else if (roll < 40) {
    if (options_.crashes) what = Crash();
  } else if (roll < 55) {
    if (options_.crashes) what = Restart();
  } else if (roll < 63) {
    if (options_.unreliable_network) {
      const bool unreliable = rand.Bernoulli(0.5);
      cluster_->SetNetwork(unreliable ? NetworkFaults::Unreliable() : NetworkFaults::Reliable());
      what = unreliable ? "network unreliable" : "network reliable";
    }
  } else if (roll < 73) {
    if (options_.membership_changes) what = ChangeMembership();
  } else if (roll < 80) {
    if (options_.leadership_transfers) what = TransferLeadership();
  }
  if (what.empty()) {
    cluster_->Heal();
    what = "heal";
  }
  return what;
}

std::string Nemesis::Partition() {
  base::Rand& rand = cluster_->rand();
  std::vector<uint64_t> ids = cluster_->node_ids();
  switch (rand.Uniform(4)) {
    case 0: {
      const uint64_t leader = cluster_->Leader();
      const uint64_t victim = leader != 0 ? leader : RandomNode();
      cluster_->Isolate(victim);
      return fmt::format("isolate {}{}", victim, leader != 0 ? " (leader)" : "");
    }
    case 1: {
      const uint64_t victim = RandomNode();
      cluster_->Isolate(victim);
      return fmt::format("isolate {}", victim);
    }
    case 2: {
      // Random split into two sides; either side may hold the majority.
      for (size_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[rand.Uniform(i)]);
      const size_t cut = 1 + rand.Uniform(ids.size() - 1);
      std::vector<uint64_t> a(ids.begin(), ids.begin() + cut), b(ids.begin() + cut, ids.end());
      cluster_->Partition({a, b});
      return "partition";
    }
    default: {
      // One-way cuts: a node that can send but not receive, or the reverse.
      const uint64_t victim = RandomNode();
      const bool inbound = rand.Bernoulli(0.5);
      for (uint64_t other : ids) {
        if (other == victim) continue;
        if (inbound) {
          cluster_->CutOneWay(other, victim);
        } else {
          cluster_->CutOneWay(victim, other);
        }
      }
      return fmt::format("cut {} {}", inbound ? "inbound to" : "outbound from", victim);
    }
  }
}

std::string Nemesis::Crash() {
  int down = 0;
  for (uint64_t id : cluster_->node_ids()) down += cluster_->IsUp(id) ? 0 : 1;
  if (options_.max_down > 0 && down >= options_.max_down) return Restart();
  const uint64_t leader = cluster_->Leader();
  const uint64_t victim = leader != 0 && cluster_->rand().Bernoulli(0.4) ? leader : RandomNode();
  if (!cluster_->IsUp(victim)) return "";
  cluster_->Note(fmt::format("crash {}", victim));
  cluster_->Crash(victim);
  return fmt::format("crash {}", victim);
}

std::string Nemesis::Restart() {
  std::vector<uint64_t> down;
  for (uint64_t id : cluster_->node_ids()) {
    if (!cluster_->IsUp(id)) down.push_back(id);
  }
  if (down.empty()) return "";
  const uint64_t id = down[cluster_->rand().Uniform(down.size())];
  cluster_->Note(fmt::format("restart {}", id));
  cluster_->Restart(id);
  return fmt::format("restart {}", id);
}

std::string Nemesis::ChangeMembership() {
  const uint64_t leader = cluster_->Leader();
  if (leader == 0) return "";
  SimNode& l = cluster_->node(leader);
  const raftpb::ConfState& conf = l.conf_state();
  if (conf.voters_outgoing_size() > 0) return "";  // still joint; the core leaves it itself
  std::vector<uint64_t> voters(conf.voters().begin(), conf.voters().end());
  std::vector<uint64_t> learners(conf.learners().begin(), conf.learners().end());
  std::vector<uint64_t> outside;
  for (uint64_t id : cluster_->node_ids()) {
    if (std::find(voters.begin(), voters.end(), id) == voters.end() &&
        std::find(learners.begin(), learners.end(), id) == learners.end()) {
      outside.push_back(id);
    }
  }
  base::Rand& rand = cluster_->rand();
  raftpb::ConfChangeV2 change;
  auto add = [&](raftpb::ConfChangeType type, uint64_t id) {
    auto* single = change.add_changes();
    single->set_change_type(type);
    single->set_node_id(id);
  };
  std::string what;
  const uint64_t choice = rand.Uniform(4);
  if (choice == 0 && voters.size() > 2) {
    const uint64_t victim = voters[rand.Uniform(voters.size())];
    add(raftpb::CONF_CHANGE_REMOVE_NODE, victim);
    what = fmt::format("remove voter {}", victim);
  } else if (choice == 1 && !outside.empty()) {
    const uint64_t id = outside[rand.Uniform(outside.size())];
    const bool learner = rand.Bernoulli(0.5);
    add(learner ? raftpb::CONF_CHANGE_ADD_LEARNER_NODE : raftpb::CONF_CHANGE_ADD_NODE, id);
    what = fmt::format("add {} {}", learner ? "learner" : "voter", id);
  } else if (choice == 2 && !learners.empty()) {
    const uint64_t id = learners[rand.Uniform(learners.size())];
    add(raftpb::CONF_CHANGE_ADD_NODE, id);
    what = fmt::format("promote learner {}", id);
  } else if (voters.size() >= 3) {
    // Joint consensus (§6): swap one voter for another node, or demote one voter to learner
    // while promoting another, in a single change.
    const uint64_t out = voters[rand.Uniform(voters.size())];
    add(rand.Bernoulli(0.5) ? raftpb::CONF_CHANGE_REMOVE_NODE
                            : raftpb::CONF_CHANGE_ADD_LEARNER_NODE,
        out);
    if (!outside.empty()) {
      const uint64_t in = outside[rand.Uniform(outside.size())];
      add(raftpb::CONF_CHANGE_ADD_NODE, in);
      what = fmt::format("joint: {} out, {} in", out, in);
    } else if (!learners.empty()) {
      const uint64_t in = learners[rand.Uniform(learners.size())];
      add(raftpb::CONF_CHANGE_ADD_NODE, in);
      what = fmt::format("joint: {} out, learner {} promoted", out, in);
    } else {
      change.clear_changes();
    }
    if (change.changes_size() == 2) {
      change.set_transition(rand.Bernoulli(0.5) ? raftpb::CONF_CHANGE_TRANSITION_AUTO
                                                : raftpb::CONF_CHANGE_TRANSITION_JOINT_IMPLICIT);
    }
  }
  if (change.changes_size() == 0) return "";
  const absl::Status s = l.ProposeConfChange(change);
  what += s.ok() ? "" : fmt::format(" (refused: {})", std::string(s.message()));
  cluster_->Note(what);
  return what;
}

std::string Nemesis::TransferLeadership() {
  const uint64_t leader = cluster_->Leader();
  if (leader == 0) return "";
  const raftpb::ConfState& conf = cluster_->node(leader).conf_state();
  if (conf.voters_size() < 2) return "";
  uint64_t target = leader;
  while (target == leader) target = conf.voters(cluster_->rand().Uniform(conf.voters_size()));
  const std::string what = fmt::format("transfer leadership {} -> {}", leader, target);
  cluster_->Note(what);
  cluster_->node(leader).TransferLeader(target);
  return what;
}

}  // namespace raftkv::sim
