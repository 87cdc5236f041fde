#include "raft/testing/cluster.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "fmt/format.h"
#include "fmt/ranges.h"
#include "raft/util.h"
#include "raftkv/raft/ready_loop.h"

namespace raftkv::raft::testing {

struct Cluster::Node {
  uint64_t id = 0;
  std::unique_ptr<MemoryStorage> storage;
  std::unique_ptr<RawNode> raw;
  bool down = false;
  SoftState soft_state;
  std::vector<raftpb::Entry> applied;
  uint64_t applied_index = 0;
  std::vector<ReadState> read_states;
  raftpb::ConfState conf_state;
};

namespace {

// SplitMix64 step: spreads (cluster seed, node id) into unrelated node seeds.
uint64_t MixSeed(uint64_t seed, uint64_t id) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (id + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

bool IsLocalOnly(raftpb::MessageType type) {
  switch (type) {
    case raftpb::MSG_HUP:
    case raftpb::MSG_BEAT:
    case raftpb::MSG_UNREACHABLE:
    case raftpb::MSG_SNAP_STATUS:
    case raftpb::MSG_CHECK_QUORUM:
      return true;
    default:
      return false;
  }
}

std::string Printable(const std::string& data) {
  std::string out;
  for (char c : data) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(c);
    } else {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

}  // namespace

std::string MessageTypeName(raftpb::MessageType type) {
  // The core's names, so test output reads like the core's own logs.
  return raft::MessageTypeName(type);
}

std::string DescribeEntry(const raftpb::Entry& e) {
  std::string head = fmt::format("{}/{}", e.term(), e.index());
  auto change = [](raftpb::ConfChangeType type, uint64_t id) {
    switch (type) {
      case raftpb::CONF_CHANGE_ADD_NODE:
        return fmt::format("add={}", id);
      case raftpb::CONF_CHANGE_REMOVE_NODE:
        return fmt::format("remove={}", id);
      case raftpb::CONF_CHANGE_ADD_LEARNER_NODE:
        return fmt::format("learner={}", id);
      default:
        return fmt::format("update={}", id);
    }
  };
  if (e.entry_type() == raftpb::ENTRY_CONF_CHANGE) {
    raftpb::ConfChange cc;
    if (!cc.ParseFromString(e.data())) return head + " conf(unparsable)";
    return fmt::format("{} conf({})", head, change(cc.change_type(), cc.node_id()));
  }
  if (e.entry_type() == raftpb::ENTRY_CONF_CHANGE_V2) {
    raftpb::ConfChangeV2 cc;
    if (!cc.ParseFromString(e.data())) return head + " conf2(unparsable)";
    std::vector<std::string> parts;
    if (cc.transition() == raftpb::CONF_CHANGE_TRANSITION_JOINT_EXPLICIT)
      parts.push_back("explicit");
    if (cc.transition() == raftpb::CONF_CHANGE_TRANSITION_JOINT_IMPLICIT)
      parts.push_back("implicit");
    for (const auto& c : cc.changes()) parts.push_back(change(c.change_type(), c.node_id()));
    if (cc.changes_size() == 0) parts.push_back("leave-joint");
    return fmt::format("{} conf2({})", head, fmt::join(parts, " "));
  }
  if (e.data().empty()) return head;
  return fmt::format("{} {}", head, Printable(e.data()));
}

std::string DescribeMessage(const raftpb::Message& m) {
  std::string s =
      fmt::format("{}->{} {} term={}", m.from(), m.to(), MessageTypeName(m.msg_type()), m.term());
  switch (m.msg_type()) {
    case raftpb::MSG_APPEND: {
      s += fmt::format(" prev={}/{} commit={}", m.log_term(), m.index(), m.commit());
      std::vector<std::string> entries;
      for (const auto& e : m.entries()) entries.push_back(DescribeEntry(e));
      s += fmt::format(" entries=[{}]", fmt::join(entries, ", "));
      break;
    }
    case raftpb::MSG_APPEND_RESPONSE:
      s += fmt::format(" index={}", m.index());
      if (m.reject()) {
        s += fmt::format(" rejected hint={}/{}", m.reject_hint_term(), m.reject_hint());
      }
      break;
    case raftpb::MSG_REQUEST_VOTE:
    case raftpb::MSG_REQUEST_PRE_VOTE:
      s += fmt::format(" last={}/{}", m.log_term(), m.index());
      break;
    case raftpb::MSG_REQUEST_VOTE_RESPONSE:
    case raftpb::MSG_REQUEST_PRE_VOTE_RESPONSE:
      s += m.reject() ? " rejected" : " granted";
      break;
    case raftpb::MSG_HEARTBEAT:
      s += fmt::format(" commit={}", m.commit());
      break;
    case raftpb::MSG_SNAPSHOT:
      s += fmt::format(" snapshot={}/{}", m.snapshot().metadata().term(),
                       m.snapshot().metadata().index());
      break;
    case raftpb::MSG_READ_INDEX_RESPONSE:
      s += fmt::format(" index={}", m.index());
      break;
    default:
      break;
  }
  if (!m.context().empty() && m.msg_type() != raftpb::MSG_APPEND) {
    s += fmt::format(" ctx={}", Printable(m.context()));
  }
  return s;
}

Cluster::Cluster(ClusterOptions options) : options_(std::move(options)) {
  if (!options_.on_violation) {
    options_.on_violation = [](const std::string& what) {
      std::fprintf(stderr, "raft safety violation: %s\n", what.c_str());
      std::abort();
    };
  }
}

Cluster::~Cluster() = default;

std::vector<uint64_t> Cluster::AddNodes(int count) {
  uint64_t next = nodes_.empty() ? 1 : nodes_.rbegin()->first + 1;
  std::vector<uint64_t> ids;
  for (int i = 0; i < count; ++i) ids.push_back(next + i);
  if (founders_.empty()) founders_ = ids;
  NodeSetup setup;
  setup.voters = ids;
  for (uint64_t id : ids) AddNode(id, setup);
  return ids;
}

std::vector<uint64_t> Cluster::AddJoiningNodes(int count) {
  uint64_t next = nodes_.empty() ? 1 : nodes_.rbegin()->first + 1;
  std::vector<uint64_t> ids;
  NodeSetup setup;
  setup.voters = founders_;
  for (int i = 0; i < count; ++i) {
    ids.push_back(next + i);
    AddNode(next + i, setup);
  }
  return ids;
}

void Cluster::AddNode(uint64_t id, const NodeSetup& setup) {
  if (nodes_.count(id) != 0) Violation(fmt::format("node {} added twice", id));
  auto node = std::make_unique<Node>();
  node->id = id;
  node->storage = std::make_unique<MemoryStorage>();
  if (!setup.voters.empty() || !setup.learners.empty()) {
    raftpb::ConfState cs;
    for (uint64_t v : setup.voters) cs.add_voters(v);
    for (uint64_t l : setup.learners) cs.add_learners(l);
    absl::Status s = node->storage->Bootstrap(cs);
    if (!s.ok()) Violation(fmt::format("bootstrap of node {}: {}", id, s.ToString()));
    node->conf_state = cs;
  }
  std::vector<raftpb::Entry> entries;
  uint64_t last_term = 0;
  for (size_t i = 0; i < setup.log_terms.size(); ++i) {
    raftpb::Entry e;
    e.set_index(i + 1);
    e.set_term(setup.log_terms[i]);
    last_term = setup.log_terms[i];
    entries.push_back(std::move(e));
  }
  if (!entries.empty()) {
    absl::Status s = node->storage->Append(entries);
    if (!s.ok()) Violation(fmt::format("preset log of node {}: {}", id, s.ToString()));
  }
  raftpb::HardState hs;
  hs.set_term(std::max(setup.term, last_term));
  hs.set_vote(setup.vote);
  hs.set_commit(setup.commit);
  node->storage->SetHardState(hs);
  Node& ref = *node;
  nodes_[id] = std::move(node);
  // A preset commit index counts as applied: the application had applied it before.
  StartNode(ref, setup.commit);
}

void Cluster::StartNode(Node& node, uint64_t applied) {
  Config config;
  config.id = node.id;
  config.election_ticks = options_.election_ticks;
  config.heartbeat_ticks = options_.heartbeat_ticks;
  config.storage = node.storage.get();
  config.applied = applied;
  config.max_size_per_msg_bytes = options_.max_size_per_msg_bytes;
  config.max_committed_size_per_ready_bytes = options_.max_committed_size_per_ready_bytes;
  config.max_inflight_msgs = options_.max_inflight_msgs;
  config.check_quorum = options_.check_quorum;
  config.pre_vote = options_.pre_vote;
  config.read_only_option = options_.read_only_option;
  config.disable_proposal_forwarding = options_.disable_proposal_forwarding;
  config.random_seed = MixSeed(options_.seed, node.id);
  auto raw = RawNode::Create(config);
  if (!raw.ok()) Violation(fmt::format("creating node {}: {}", node.id, raw.status().ToString()));
  node.raw = std::move(raw).value();
  node.applied_index = applied;
  node.down = false;
  node.soft_state = SoftState{};
  HandleReady(node);
}

std::vector<uint64_t> Cluster::ids() const {
  std::vector<uint64_t> out;
  for (const auto& [id, node] : nodes_) out.push_back(id);
  return out;
}

Cluster::Node& Cluster::Get(uint64_t id) {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) {
    std::fprintf(stderr, "no node %llu\n", static_cast<unsigned long long>(id));
    std::abort();
  }
  return *it->second;
}

const Cluster::Node& Cluster::Get(uint64_t id) const {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) {
    std::fprintf(stderr, "no node %llu\n", static_cast<unsigned long long>(id));
    std::abort();
  }
  return *it->second;
}

void Cluster::Tick(uint64_t id, int ticks) {
  Node& node = Get(id);
  if (node.down) return;
  for (int i = 0; i < ticks; ++i) {
    node.raw->Tick();
    HandleReady(node);
  }
}

void Cluster::TickAll(int rounds) {
  for (int r = 0; r < rounds; ++r) {
    for (auto& [id, node] : nodes_) {
      if (node->down) continue;
      node->raw->Tick();
      HandleReady(*node);
    }
  }
}

absl::Status Cluster::Campaign(uint64_t id) {
  Node& node = Get(id);
  absl::Status s = node.raw->Campaign();
  HandleReady(node);
  return s;
}

absl::Status Cluster::Propose(uint64_t id, std::string data) {
  Node& node = Get(id);
  absl::Status s = node.raw->Propose(std::move(data));
  HandleReady(node);
  return s;
}

absl::Status Cluster::ProposeConfChange(uint64_t id, const raftpb::ConfChangeV2& change) {
  Node& node = Get(id);
  absl::Status s = node.raw->ProposeConfChange(change);
  HandleReady(node);
  return s;
}

absl::Status Cluster::ProposeConfChange(uint64_t id, const raftpb::ConfChange& change) {
  Node& node = Get(id);
  absl::Status s = node.raw->ProposeConfChange(change);
  HandleReady(node);
  return s;
}

void Cluster::TransferLeader(uint64_t id, uint64_t transferee) {
  Node& node = Get(id);
  node.raw->TransferLeader(transferee);
  HandleReady(node);
}

void Cluster::ReadIndex(uint64_t id, std::string request_ctx) {
  Node& node = Get(id);
  node.raw->ReadIndex(std::move(request_ctx));
  HandleReady(node);
}

void Cluster::ReportUnreachable(uint64_t id, uint64_t peer) {
  Node& node = Get(id);
  node.raw->ReportUnreachable(peer);
  HandleReady(node);
}

void Cluster::ReportSnapshot(uint64_t id, uint64_t peer, SnapshotStatus status) {
  Node& node = Get(id);
  node.raw->ReportSnapshot(peer, status);
  HandleReady(node);
}

absl::Status Cluster::Step(const raftpb::Message& m) {
  Node& node = Get(m.to());
  if (node.down) return absl::UnavailableError(fmt::format("node {} is down", m.to()));
  absl::Status s = node.raw->Step(m);
  HandleReady(node);
  return s;
}

// The application around one node: the steps of the core's Ready loop, with the cluster's
// safety checks and event lines.
class Cluster::NodeApplication final : public ReadyHandler {
 public:
  NodeApplication(Cluster& cluster, Node& node) : cluster_(cluster), node_(node) {}

  void ObserveState(const Ready& rd) override {
    if (!rd.soft_state.has_value() || *rd.soft_state == node_.soft_state) return;
    const SoftState& ss = *rd.soft_state;
    if (ss.role != node_.soft_state.role) {
      uint64_t term = cluster_.term_of(node_);
      cluster_.events_.push_back(
          fmt::format("{} became {} at term {}", node_.id, StateRoleName(ss.role), term));
      if (ss.role == StateRole::kLeader) {
        auto [it, inserted] = cluster_.leader_of_term_.emplace(term, node_.id);
        if (!inserted && it->second != node_.id) {
          cluster_.Violation(
              fmt::format("two leaders in term {}: {} and {}", term, it->second, node_.id));
        }
      }
    }
    node_.soft_state = ss;
  }

  void Send(std::vector<raftpb::Message> messages) override {
    for (const auto& m : messages) cluster_.Enqueue(m);
  }

  absl::Status Persist(const Ready& rd) override {
    if (rd.snapshot.has_value() && rd.snapshot->metadata().index() > 0) {
      absl::Status s = node_.storage->ApplySnapshot(*rd.snapshot);
      if (!s.ok()) cluster_.Violation(fmt::format("node {} snapshot: {}", node_.id, s.ToString()));
    }
    if (!rd.entries.empty()) {
      absl::Status s = node_.storage->Append(rd.entries);
      if (!s.ok()) cluster_.Violation(fmt::format("node {} append: {}", node_.id, s.ToString()));
    }
    if (rd.hard_state.has_value()) node_.storage->SetHardState(*rd.hard_state);
    return absl::OkStatus();
  }

  absl::Status Apply(const Ready& rd) override {
    if (rd.snapshot.has_value() && rd.snapshot->metadata().index() > 0) {
      const auto& meta = rd.snapshot->metadata();
      node_.applied_index = meta.index();
      node_.conf_state = meta.conf_state();
      cluster_.events_.push_back(
          fmt::format("{} applied snapshot {}/{}", node_.id, meta.term(), meta.index()));
    }
    for (const auto& e : rd.committed_entries) cluster_.Apply(node_, e);
    for (const auto& rs : rd.read_states) {
      node_.read_states.push_back(rs);
      cluster_.events_.push_back(fmt::format("{} read state index={} ctx={}", node_.id, rs.index,
                                             Printable(rs.request_ctx)));
    }
    return absl::OkStatus();
  }

 private:
  Cluster& cluster_;
  Node& node_;
};

void Cluster::HandleReady(Node& node) {
  if (node.down) return;
  NodeApplication application(*this, node);
  (void)HandleReadies(*node.raw, application);
}

void Cluster::Apply(Node& node, const raftpb::Entry& e) {
  if (e.index() != node.applied_index + 1) {
    Violation(
        fmt::format("node {} applied entry {} after {}: committed entries must be applied "
                    "in order without gaps (§5.3)",
                    node.id, e.index(), node.applied_index));
  }
  auto [it, inserted] = applied_at_.emplace(e.index(), std::make_pair(e.term(), e.data()));
  if (!inserted && (it->second.first != e.term() || it->second.second != e.data())) {
    Violation(
        fmt::format("State Machine Safety: node {} applied {} at index {}, another node "
                    "applied term {} there",
                    node.id, DescribeEntry(e), e.index(), it->second.first));
  }
  node.applied_index = e.index();
  node.applied.push_back(e);
  events_.push_back(fmt::format("{} applied {}", node.id, DescribeEntry(e)));
  if (e.entry_type() == raftpb::ENTRY_CONF_CHANGE) {
    raftpb::ConfChange cc;
    if (!cc.ParseFromString(e.data())) Violation("unparsable conf change entry");
    node.conf_state = node.raw->ApplyConfChange(cc);
  } else if (e.entry_type() == raftpb::ENTRY_CONF_CHANGE_V2) {
    raftpb::ConfChangeV2 cc;
    if (!cc.ParseFromString(e.data())) Violation("unparsable conf change v2 entry");
    node.conf_state = node.raw->ApplyConfChange(cc);
  }
}

bool Cluster::Filtered(const raftpb::Message& m) const {
  if (dropped_types_.count(m.msg_type()) != 0) return true;
  if (!Reachable(m.from(), m.to())) return true;
  // Messages to a node the cluster does not have stay visible (tests inspect the answers of a
  // lone node to forged messages) and are dropped when delivered.
  auto it = nodes_.find(m.to());
  return it != nodes_.end() && it->second->down;
}

void Cluster::Enqueue(const raftpb::Message& m) {
  if (IsLocalOnly(m.msg_type())) {
    Violation(fmt::format("local message on the wire: {}", DescribeMessage(m)));
  }
  if (Filtered(m)) return;
  in_flight_.push_back(m);
}

void Cluster::Send(const raftpb::Message& m) { Enqueue(m); }

void Cluster::Deliver(const raftpb::Message& m) {
  // Links may have been cut, or the recipient crashed, while the message was in flight.
  if (Filtered(m) || nodes_.count(m.to()) == 0) return;
  if (deliver_observer_) deliver_observer_(m);
  Node& node = Get(m.to());
  // Errors (for example a response from a removed peer) are the recipient's business.
  (void)node.raw->Step(m);
  HandleReady(node);
}

std::vector<raftpb::Message> Cluster::Pending(
    const std::function<bool(const raftpb::Message&)>& pred) const {
  std::vector<raftpb::Message> out;
  for (const auto& m : in_flight_) {
    if (pred(m)) out.push_back(m);
  }
  return out;
}

std::vector<raftpb::Message> Cluster::TakeInFlight() {
  std::vector<raftpb::Message> out(in_flight_.begin(), in_flight_.end());
  in_flight_.clear();
  return out;
}

bool Cluster::DeliverOne() {
  if (in_flight_.empty()) return false;
  raftpb::Message m = std::move(in_flight_.front());
  in_flight_.pop_front();
  Deliver(m);
  return true;
}

bool Cluster::DeliverFirst(const std::function<bool(const raftpb::Message&)>& pred) {
  for (auto it = in_flight_.begin(); it != in_flight_.end(); ++it) {
    if (pred(*it)) {
      raftpb::Message m = std::move(*it);
      in_flight_.erase(it);
      Deliver(m);
      return true;
    }
  }
  return false;
}

int Cluster::DeliverAll() {
  std::deque<raftpb::Message> batch;
  batch.swap(in_flight_);
  int delivered = 0;
  for (const auto& m : batch) {
    Deliver(m);
    ++delivered;
  }
  return delivered;
}

int Cluster::DeliverTo(uint64_t id) {
  std::deque<raftpb::Message> batch;
  std::deque<raftpb::Message> rest;
  for (auto& m : in_flight_) (m.to() == id ? batch : rest).push_back(std::move(m));
  in_flight_.swap(rest);
  for (const auto& m : batch) Deliver(m);
  return static_cast<int>(batch.size());
}

int Cluster::Drop(const std::function<bool(const raftpb::Message&)>& pred) {
  auto before = in_flight_.size();
  in_flight_.erase(std::remove_if(in_flight_.begin(), in_flight_.end(), pred), in_flight_.end());
  return static_cast<int>(before - in_flight_.size());
}

int Cluster::Stabilize() {
  int delivered = 0;
  // Bounded so that a livelock in the core fails the test instead of hanging it.
  for (int rounds = 0; rounds < 10000; ++rounds) {
    for (auto& [id, node] : nodes_) HandleReady(*node);
    if (in_flight_.empty()) return delivered;
    delivered += DeliverAll();
  }
  Violation("the cluster did not stabilize within 10000 delivery rounds");
  return delivered;
}

void Cluster::Partition(const std::vector<std::vector<uint64_t>>& groups) {
  for (size_t i = 0; i < groups.size(); ++i) {
    for (size_t j = 0; j < groups.size(); ++j) {
      if (i == j) continue;
      for (uint64_t a : groups[i]) {
        for (uint64_t b : groups[j]) cut_links_.insert({a, b});
      }
    }
  }
}

void Cluster::Isolate(uint64_t id) {
  for (const auto& [other, node] : nodes_) {
    if (other != id) Cut(id, other);
  }
}

void Cluster::Cut(uint64_t a, uint64_t b) {
  cut_links_.insert({a, b});
  cut_links_.insert({b, a});
}

bool Cluster::Reachable(uint64_t from, uint64_t to) const {
  return cut_links_.count({from, to}) == 0;
}

void Cluster::Crash(uint64_t id) {
  Node& node = Get(id);
  node.down = true;
  node.raw.reset();
  events_.push_back(fmt::format("{} crashed", id));
}

void Cluster::Restart(uint64_t id) {
  Node& node = Get(id);
  events_.push_back(fmt::format("{} restarted", id));
  StartNode(node, node.applied_index);
}

bool Cluster::IsDown(uint64_t id) const { return Get(id).down; }

RawNode& Cluster::node(uint64_t id) {
  Node& node = Get(id);
  if (node.down) Violation(fmt::format("node {} is down", id));
  return *node.raw;
}

MemoryStorage& Cluster::storage(uint64_t id) { return *Get(id).storage; }

Status Cluster::status(uint64_t id) const {
  const Node& node = Get(id);
  if (node.down) {
    Status down;
    down.id = id;
    return down;
  }
  return node.raw->GetStatus();
}

StateRole Cluster::role(uint64_t id) const { return status(id).soft_state.role; }

uint64_t Cluster::term(uint64_t id) const { return status(id).hard_state.term(); }

uint64_t Cluster::term_of(const Node& node) const {
  return node.down ? 0 : node.raw->GetStatus().hard_state.term();
}

uint64_t Cluster::Leader() const {
  uint64_t leader = 0;
  uint64_t best_term = 0;
  for (const auto& [id, node] : nodes_) {
    if (node->down) continue;
    Status st = node->raw->GetStatus();
    if (st.soft_state.role == StateRole::kLeader && st.hard_state.term() >= best_term) {
      leader = id;
      best_term = st.hard_state.term();
    }
  }
  return leader;
}

std::vector<raftpb::Entry> Cluster::Log(uint64_t id) const {
  const MemoryStorage& st = *Get(id).storage;
  if (st.LastIndex() < st.FirstIndex()) return {};
  auto entries = st.Entries(st.FirstIndex(), st.LastIndex() + 1, kNoLimit);
  if (!entries.ok()) {
    std::fprintf(stderr, "reading log of node %llu: %s\n", static_cast<unsigned long long>(id),
                 entries.status().ToString().c_str());
    std::abort();
  }
  return *std::move(entries);
}

std::vector<uint64_t> Cluster::LogTerms(uint64_t id) const {
  std::vector<uint64_t> terms;
  for (const auto& e : Log(id)) terms.push_back(e.term());
  return terms;
}

raftpb::HardState Cluster::hard_state(uint64_t id) const {
  raftpb::HardState hs;
  raftpb::ConfState cs;
  absl::Status s = Get(id).storage->InitialState(&hs, &cs);
  if (!s.ok()) {
    std::fprintf(stderr, "reading hard state: %s\n", s.ToString().c_str());
    std::abort();
  }
  return hs;
}

const std::vector<raftpb::Entry>& Cluster::applied(uint64_t id) const { return Get(id).applied; }

uint64_t Cluster::applied_index(uint64_t id) const { return Get(id).applied_index; }

std::vector<std::string> Cluster::AppliedData(uint64_t id) const {
  std::vector<std::string> out;
  for (const auto& e : Get(id).applied) {
    if (e.entry_type() == raftpb::ENTRY_NORMAL && !e.data().empty()) out.push_back(e.data());
  }
  return out;
}

const std::vector<ReadState>& Cluster::read_states(uint64_t id) const {
  return Get(id).read_states;
}

raftpb::ConfState Cluster::conf_state(uint64_t id) const { return Get(id).conf_state; }

std::vector<std::string> Cluster::TakeEvents() {
  std::vector<std::string> out;
  out.swap(events_);
  return out;
}

void Cluster::Violation(const std::string& what) { options_.on_violation(what); }

}  // namespace raftkv::raft::testing
