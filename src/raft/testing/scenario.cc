#include "raft/testing/scenario.h"

#include <charconv>
#include <cstdlib>
#include <sstream>
#include <string_view>
#include <utility>

#include "fmt/format.h"
#include "fmt/ranges.h"

namespace raftkv::raft::testing {
namespace {

std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  std::string word;
  while (in >> word) out.push_back(word);
  return out;
}

// Parses a non-negative integer argument; throws nothing, reports through `ok`.
uint64_t ParseU64(std::string_view s, bool& ok) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) ok = false;
  return v;
}

std::string RoleName(StateRole role) { return StateRoleName(role); }

std::string ProgressName(ProgressState state) { return ProgressStateName(state); }

bool ParseMessageType(const std::string& name, raftpb::MessageType* type) {
  for (int t = raftpb::MessageType_MIN; t <= raftpb::MessageType_MAX; ++t) {
    if (!raftpb::MessageType_IsValid(t)) continue;
    if (MessageTypeName(static_cast<raftpb::MessageType>(t)) == name) {
      *type = static_cast<raftpb::MessageType>(t);
      return true;
    }
  }
  return false;
}

std::string StatusLine(const absl::Status& s) {
  if (s.ok()) return "ok";
  if (IsProposalDropped(s)) return "error: proposal dropped";
  return fmt::format("error: {}", absl::StatusCodeToString(s.code()));
}

}  // namespace

Scenario::Scenario() = default;
Scenario::~Scenario() = default;

Cluster& Scenario::cluster() {
  if (!cluster_) cluster_ = std::make_unique<Cluster>();
  return *cluster_;
}

void Scenario::Flush(std::vector<std::string>& out) {
  if (!cluster_) return;
  for (auto& e : cluster_->TakeEvents()) out.push_back(std::move(e));
}

std::vector<std::string> Scenario::Run(const std::string& command) {
  std::vector<std::string> out;
  std::vector<std::string> args = Split(command);
  if (args.empty()) return out;
  out_ = &out;
  std::vector<std::string> lines = Execute(args);
  Flush(out);
  out.insert(out.end(), lines.begin(), lines.end());
  out_ = nullptr;
  return out;
}

std::vector<std::string> Scenario::Execute(const std::vector<std::string>& args) {
  const std::string& cmd = args[0];
  bool ok = true;
  auto arg = [&](size_t i) -> uint64_t {
    if (i >= args.size()) {
      ok = false;
      return 0;
    }
    return ParseU64(args[i], ok);
  };
  auto bad = [&]() { return std::vector<std::string>{"error: bad arguments: " + cmd}; };
  auto known = [&](uint64_t id) { return cluster_ && cluster_->Has(id); };

  if (cmd == "add-nodes") {
    uint64_t n = arg(1);
    ClusterOptions options;
    bool join = false;
    for (size_t i = 2; i < args.size(); ++i) {
      const std::string& a = args[i];
      auto value = [&](std::string_view prefix) {
        return ParseU64(std::string_view(a).substr(prefix.size()), ok);
      };
      if (a == "pre-vote") {
        options.pre_vote = true;
      } else if (a == "check-quorum") {
        options.check_quorum = true;
      } else if (a == "lease-read") {
        options.read_only_option = ReadOnlyOption::kLeaseBased;
      } else if (a == "no-forwarding") {
        options.disable_proposal_forwarding = true;
      } else if (a == "join") {
        join = true;
      } else if (a.rfind("election=", 0) == 0) {
        options.election_ticks = static_cast<int>(value("election="));
      } else if (a.rfind("heartbeat=", 0) == 0) {
        options.heartbeat_ticks = static_cast<int>(value("heartbeat="));
      } else if (a.rfind("max-inflight=", 0) == 0) {
        options.max_inflight_msgs = static_cast<int>(value("max-inflight="));
      } else if (a.rfind("max-bytes=", 0) == 0) {
        options.max_size_per_msg_bytes = value("max-bytes=");
      } else if (a.rfind("seed=", 0) == 0) {
        options.seed = value("seed=");
      } else {
        ok = false;
      }
    }
    if (!ok || n == 0) return bad();
    if (!cluster_) cluster_ = std::make_unique<Cluster>(options);
    std::vector<uint64_t> ids;
    if (join) {
      ids = cluster_->AddJoiningNodes(static_cast<int>(n));
    } else {
      ids = cluster_->AddNodes(static_cast<int>(n));
    }
    return {fmt::format("added {}{}", fmt::join(ids, " "), join ? " (empty, to join)" : "")};
  }

  if (cmd == "campaign") {
    uint64_t id = arg(1);
    if (!ok || !known(id)) return bad();
    absl::Status s = cluster_->Campaign(id);
    if (!s.ok()) return {StatusLine(s)};
    return {};
  }
  if (cmd == "tick") {
    uint64_t id = arg(1);
    uint64_t n = args.size() > 2 ? arg(2) : 1;
    if (!ok || !known(id)) return bad();
    cluster_->Tick(id, static_cast<int>(n));
    return {};
  }
  if (cmd == "tick-all") {
    uint64_t n = args.size() > 1 ? arg(1) : 1;
    if (!ok) return bad();
    cluster().TickAll(static_cast<int>(n));
    return {};
  }
  if (cmd == "propose") {
    uint64_t id = arg(1);
    if (!ok || !known(id) || args.size() != 3) return bad();
    absl::Status s = cluster_->Propose(id, args[2]);
    if (!s.ok()) return {StatusLine(s)};
    return {};
  }
  if (cmd == "propose-conf-change") {
    uint64_t id = arg(1);
    if (!ok || !known(id)) return bad();
    bool v1 = false;
    raftpb::ConfChangeV2 cc;
    for (size_t i = 2; i < args.size(); ++i) {
      const std::string& a = args[i];
      auto add = [&](raftpb::ConfChangeType type, std::string_view prefix) {
        raftpb::ConfChangeSingle* single = cc.add_changes();
        single->set_change_type(type);
        single->set_node_id(ParseU64(std::string_view(a).substr(prefix.size()), ok));
      };
      if (a == "v1") {
        v1 = true;
      } else if (a == "explicit") {
        cc.set_transition(raftpb::CONF_CHANGE_TRANSITION_JOINT_EXPLICIT);
      } else if (a == "implicit") {
        cc.set_transition(raftpb::CONF_CHANGE_TRANSITION_JOINT_IMPLICIT);
      } else if (a.rfind("add=", 0) == 0) {
        add(raftpb::CONF_CHANGE_ADD_NODE, "add=");
      } else if (a.rfind("remove=", 0) == 0) {
        add(raftpb::CONF_CHANGE_REMOVE_NODE, "remove=");
      } else if (a.rfind("learner=", 0) == 0) {
        add(raftpb::CONF_CHANGE_ADD_LEARNER_NODE, "learner=");
      } else {
        ok = false;
      }
    }
    if (!ok || (v1 && cc.changes_size() != 1)) return bad();
    absl::Status s;
    if (v1) {
      raftpb::ConfChange single;
      single.set_change_type(cc.changes(0).change_type());
      single.set_node_id(cc.changes(0).node_id());
      s = cluster_->ProposeConfChange(id, single);
    } else {
      s = cluster_->ProposeConfChange(id, cc);
    }
    if (!s.ok()) return {StatusLine(s)};
    return {};
  }
  if (cmd == "transfer-leader") {
    uint64_t id = arg(1);
    uint64_t target = arg(2);
    if (!ok || !known(id)) return bad();
    cluster_->TransferLeader(id, target);
    return {};
  }
  if (cmd == "read-index") {
    uint64_t id = arg(1);
    if (!ok || !known(id) || args.size() != 3) return bad();
    cluster_->ReadIndex(id, args[2]);
    return {};
  }
  if (cmd == "report-unreachable") {
    uint64_t id = arg(1);
    uint64_t peer = arg(2);
    if (!ok || !known(id)) return bad();
    cluster_->ReportUnreachable(id, peer);
    return {};
  }
  if (cmd == "report-snapshot") {
    uint64_t id = arg(1);
    uint64_t peer = arg(2);
    if (!ok || !known(id) || args.size() != 4 || (args[3] != "ok" && args[3] != "fail")) {
      return bad();
    }
    cluster_->ReportSnapshot(id, peer,
                             args[3] == "ok" ? SnapshotStatus::kFinish : SnapshotStatus::kFailure);
    return {};
  }
  if (cmd == "compact") {
    uint64_t id = arg(1);
    uint64_t index = arg(2);
    if (!ok || !known(id)) return bad();
    MemoryStorage& st = cluster_->storage(id);
    raftpb::ConfState cs = cluster_->conf_state(id);
    auto snap = st.CreateSnapshot(index, &cs, fmt::format("snapshot@{}", index));
    if (!snap.ok()) return {fmt::format("error: {}", std::string(snap.status().message()))};
    absl::Status s = st.Compact(index);
    if (!s.ok()) return {fmt::format("error: {}", std::string(s.message()))};
    return {fmt::format("{}: log now starts at {}", id, st.FirstIndex())};
  }
  if (cmd == "deliver-msgs" || cmd == "drop-msgs" || cmd == "stabilize") {
    uint64_t only = args.size() > 1 ? arg(1) : 0;
    if (!ok) return bad();
    Cluster& c = cluster();
    std::vector<std::string>& out = *out_;
    if (cmd == "drop-msgs") {
      for (const auto& m : c.InFlight()) {
        if (only == 0 || m.to() == only) out.push_back("dropped " + DescribeMessage(m));
      }
      c.Drop([only](const raftpb::Message& m) { return only == 0 || m.to() == only; });
      return {};
    }
    Flush(out);
    c.SetDeliverObserver([this, &out](const raftpb::Message& m) {
      Flush(out);
      out.push_back(DescribeMessage(m));
    });
    if (cmd == "stabilize") {
      c.Stabilize();
    } else if (only != 0) {
      c.DeliverTo(only);
    } else {
      c.DeliverAll();
    }
    c.SetDeliverObserver(nullptr);
    return {};
  }
  if (cmd == "partition") {
    std::vector<std::vector<uint64_t>> groups(1);
    for (size_t i = 1; i < args.size(); ++i) {
      if (args[i] == "|") {
        groups.emplace_back();
      } else {
        groups.back().push_back(ParseU64(args[i], ok));
      }
    }
    if (!ok || groups.size() < 2) return bad();
    cluster().Partition(groups);
    return {};
  }
  if (cmd == "heal") {
    cluster().Heal();
    return {};
  }
  if (cmd == "isolate") {
    uint64_t id = arg(1);
    if (!ok || !known(id)) return bad();
    cluster_->Isolate(id);
    return {};
  }
  if (cmd == "cut") {
    uint64_t a = arg(1);
    uint64_t b = arg(2);
    if (!ok) return bad();
    cluster().Cut(a, b);
    return {};
  }
  if (cmd == "drop-type" || cmd == "allow-type") {
    raftpb::MessageType type;
    if (args.size() != 2 || !ParseMessageType(args[1], &type)) return bad();
    if (cmd == "drop-type") {
      cluster().DropType(type);
    } else {
      cluster().AllowType(type);
    }
    return {};
  }
  if (cmd == "crash" || cmd == "restart") {
    uint64_t id = arg(1);
    if (!ok || !known(id)) return bad();
    if (cmd == "crash") {
      cluster_->Crash(id);
    } else {
      cluster_->Restart(id);
    }
    return {};
  }
  if (cmd == "status") {
    uint64_t id = arg(1);
    if (!ok || !known(id)) return bad();
    if (cluster_->IsDown(id)) return {fmt::format("{}: down", id)};
    Status st = cluster_->status(id);
    std::vector<std::string> out;
    out.push_back(fmt::format("{}: {} term={} vote={} commit={} applied={} leader={}", id,
                              RoleName(st.soft_state.role), st.hard_state.term(),
                              st.hard_state.vote(), st.hard_state.commit(),
                              cluster_->applied_index(id), st.soft_state.leader));
    const raftpb::ConfState& cs = st.conf_state;
    std::string conf = fmt::format("  voters=({})", fmt::join(cs.voters(), " "));
    if (cs.voters_outgoing_size() > 0) {
      conf += fmt::format("&&({})", fmt::join(cs.voters_outgoing(), " "));
    }
    if (cs.learners_size() > 0)
      conf += fmt::format(" learners=({})", fmt::join(cs.learners(), " "));
    if (cs.learners_next_size() > 0) {
      conf += fmt::format(" learners_next=({})", fmt::join(cs.learners_next(), " "));
    }
    out.push_back(conf);
    for (const auto& [peer, pr] : st.progress) {
      out.push_back(fmt::format("  {}: match={} next={} {}{}", peer, pr.match, pr.next,
                                ProgressName(pr.state), pr.is_learner ? " learner" : ""));
    }
    if (st.lead_transferee != 0)
      out.push_back(fmt::format("  transferring to {}", st.lead_transferee));
    return out;
  }
  if (cmd == "log") {
    uint64_t id = arg(1);
    if (!ok || !known(id)) return bad();
    std::vector<std::string> entries;
    for (const auto& e : cluster_->Log(id)) entries.push_back(DescribeEntry(e));
    const MemoryStorage& st = cluster_->storage(id);
    std::string prefix;
    if (st.FirstIndex() > 1) prefix = fmt::format("(compacted to {}) ", st.FirstIndex() - 1);
    return {fmt::format("{}: {}[{}]", id, prefix, fmt::join(entries, ", "))};
  }
  if (cmd == "applied") {
    uint64_t id = arg(1);
    if (!ok || !known(id)) return bad();
    return {fmt::format("{}: applied={} data=[{}]", id, cluster_->applied_index(id),
                        fmt::join(cluster_->AppliedData(id), " "))};
  }
  if (cmd == "raft-state") {
    std::vector<std::string> out;
    for (uint64_t id : cluster().ids()) {
      if (cluster_->IsDown(id)) {
        out.push_back(fmt::format("{}: down", id));
        continue;
      }
      Status st = cluster_->status(id);
      out.push_back(fmt::format("{}: {} term={} leader={}", id, RoleName(st.soft_state.role),
                                st.hard_state.term(), st.soft_state.leader));
    }
    return out;
  }
  if (cmd == "in-flight") {
    std::vector<std::string> out;
    for (const auto& m : cluster().InFlight()) out.push_back(DescribeMessage(m));
    return out;
  }
  return {"error: unknown command: " + cmd};
}

ScenarioResult RunScenario(const std::string& text) {
  ScenarioResult result;
  Scenario scenario;
  std::istringstream in(text);
  std::string line;
  std::vector<std::string> expected;
  std::vector<std::string> actual;
  std::string command;
  int command_line = 0;
  bool have_command = false;
  int number = 0;

  auto finish = [&]() {
    if (!have_command) return;
    if (expected != actual) {
      result.matched = false;
      result.diff += fmt::format("line {}: > {}\n  expected:\n", command_line, command);
      for (const auto& l : expected) result.diff += "    " + l + "\n";
      result.diff += "  actual:\n";
      for (const auto& l : actual) result.diff += "    " + l + "\n";
    }
    for (const auto& l : actual) result.actual += l + "\n";
    result.actual += "\n";
    expected.clear();
    have_command = false;
  };

  while (std::getline(in, line)) {
    ++number;
    if (line.rfind("> ", 0) == 0) {
      finish();
      command = line.substr(2);
      command_line = number;
      have_command = true;
      result.actual += line + "\n";
      actual = scenario.Run(command);
    } else if (line.empty()) {
      continue;
    } else if (line[0] == '#') {
      finish();
      result.actual += line + "\n";
    } else if (have_command) {
      expected.push_back(line);
    } else {
      result.matched = false;
      result.diff += fmt::format("line {}: output without a command: {}\n", number, line);
    }
  }
  finish();
  // Keep a single trailing newline.
  while (result.actual.size() >= 2 && result.actual.substr(result.actual.size() - 2) == "\n\n") {
    result.actual.pop_back();
  }
  return result;
}

}  // namespace raftkv::raft::testing
