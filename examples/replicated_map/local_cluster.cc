#include "local_cluster.h"

#include <string>
#include <utility>

namespace replicated_map {

namespace raft = raftkv::raft;
namespace raftpb = raftkv::raftpb;

absl::StatusOr<LocalCluster> LocalCluster::Found(int size) {
  std::vector<uint64_t> ids;
  for (int i = 1; i <= size; ++i) ids.push_back(static_cast<uint64_t>(i));
  LocalCluster cluster;
  for (uint64_t id : ids) {
    auto node = MapNode::Found(id, ids);
    if (!node.ok()) return node.status();
    cluster.members_[id] = *std::move(node);
  }
  return cluster;
}

MapNode* LocalCluster::Leader() {
  for (auto& [id, node] : members_) {
    if (node->IsLeader() && cut_off_.count(id) == 0) return node.get();
  }
  return nullptr;
}

absl::Status LocalCluster::HandleAllReadies() {
  for (auto& [id, node] : members_) {
    if (absl::Status s = node->HandleReadies(in_flight_); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void LocalCluster::Deliver(const raftpb::Message& message) {
  if (cut_off_.count(message.from()) != 0 || cut_off_.count(message.to()) != 0) {
    // A real transport reports a peer it cannot reach, so the leader stops streaming appends
    // to it and probes instead.
    auto sender = members_.find(message.from());
    if (sender != members_.end()) sender->second->raw().ReportUnreachable(message.to());
    return;
  }
  auto receiver = members_.find(message.to());
  if (receiver == members_.end()) return;
  // Step refuses messages it must not act on (a response from a removed member, say); a
  // network may deliver such messages, so they are dropped, not fatal.
  (void)receiver->second->raw().Step(message);
  if (message.msg_type() == raftpb::MSG_SNAPSHOT) {
    // The snapshot arrived whole; tell the sender, as a transport does once it is sent.
    members_.at(message.from())->raw().ReportSnapshot(message.to(), raft::SnapshotStatus::kFinish);
  }
}

absl::Status LocalCluster::Settle() {
  // Without ticks the members only answer each other, which ends; the bound turns a bug in
  // that reasoning into an error instead of a hang.
  constexpr int kMaxPasses = 10000;
  for (int pass = 0; pass < kMaxPasses; ++pass) {
    if (absl::Status s = HandleAllReadies(); !s.ok()) return s;
    if (in_flight_.empty()) return absl::OkStatus();
    std::vector<raftpb::Message> batch = std::exchange(in_flight_, {});
    for (const raftpb::Message& message : batch) Deliver(message);
  }
  return absl::InternalError("messages still in flight after many passes");
}

absl::Status LocalCluster::Round() {
  for (auto& [id, node] : members_) {
    if (cut_off_.count(id) == 0) node->raw().Tick();
  }
  return Settle();
}

absl::Status LocalCluster::RunUntil(const std::function<bool()>& done, int max_rounds) {
  for (int round = 0; round < max_rounds; ++round) {
    if (done()) return absl::OkStatus();
    if (absl::Status s = Round(); !s.ok()) return s;
  }
  if (done()) return absl::OkStatus();
  return absl::DeadlineExceededError("not done after " + std::to_string(max_rounds) + " rounds");
}

}  // namespace replicated_map
