// Throughput of the consensus core alone: three RawNodes over MemoryStorage in one thread,
// every message delivered as soon as it is produced (no network, no disk). A round proposes a
// batch of 128-byte entries on the leader and runs every node's Ready loop until the cluster
// is quiet; the figure is entries committed (and applied on the leader) per second.
#include <array>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "raftkv/raft/memory_storage.h"
#include "raftkv/raft/raw_node.h"

namespace raftkv::raft {
namespace {

constexpr int kNodes = 3;
constexpr size_t kPayloadBytes = 128;
// Keep MemoryStorage small: compact once this many applied entries pile up.
constexpr uint64_t kCompactEvery = 8192;

class InstantCluster {
 public:
  InstantCluster() {
    raftpb::ConfState cs;
    for (int i = 1; i <= kNodes; ++i) cs.add_voters(i);
    for (int i = 0; i < kNodes; ++i) {
      Node& n = nodes_[i];
      n.storage = std::make_unique<MemoryStorage>();
      if (!n.storage->Bootstrap(cs).ok()) std::abort();
      Config config;
      config.id = i + 1;
      config.storage = n.storage.get();
      config.random_seed = i + 1;
      auto raw = RawNode::Create(config);
      if (!raw.ok()) std::abort();
      n.raw = std::move(raw).value();
    }
    if (!nodes_[0].raw->Campaign().ok()) std::abort();
    Pump();
    if (nodes_[0].raw->GetStatus().soft_state.role != StateRole::kLeader) std::abort();
  }

  RawNode& leader() { return *nodes_[0].raw; }
  uint64_t leader_committed() const { return nodes_[0].committed; }

  // Runs Ready loops and delivers messages until nothing is left to do.
  void Pump() {
    bool busy = true;
    while (busy) {
      busy = false;
      for (Node& n : nodes_) busy |= HandleReady(n);
      while (!queue_.empty()) {
        busy = true;
        raftpb::Message m = std::move(queue_.front());
        queue_.pop_front();
        (void)nodes_[m.to() - 1].raw->Step(m);
      }
    }
  }

 private:
  struct Node {
    std::unique_ptr<MemoryStorage> storage;
    std::unique_ptr<RawNode> raw;
    uint64_t applied = 0;
    uint64_t committed = 0;
  };

  bool HandleReady(Node& n) {
    bool any = false;
    while (n.raw->HasReady()) {
      any = true;
      Ready rd = n.raw->GetReady();
      for (auto& m : rd.messages) queue_.push_back(std::move(m));
      if (!rd.entries.empty() && !n.storage->Append(rd.entries).ok()) std::abort();
      if (rd.hard_state.has_value()) n.storage->SetHardState(*rd.hard_state);
      for (auto& m : rd.persisted_messages) queue_.push_back(std::move(m));
      if (!rd.committed_entries.empty()) {
        n.committed += rd.committed_entries.size();
        n.applied = rd.committed_entries.back().index();
      }
      n.raw->Advance();
      if (n.applied >= n.storage->FirstIndex() + kCompactEvery) {
        if (!n.storage->Compact(n.applied).ok()) std::abort();
      }
    }
    return any;
  }

  std::array<Node, kNodes> nodes_;
  std::deque<raftpb::Message> queue_;
};

void BM_CommitThreeNodes(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  InstantCluster cluster;
  const std::string payload(kPayloadBytes, 'v');
  const uint64_t before = cluster.leader_committed();
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) {
      if (!cluster.leader().Propose(payload).ok()) std::abort();
    }
    cluster.Pump();
  }
  const uint64_t committed = cluster.leader_committed() - before;
  if (committed != static_cast<uint64_t>(state.iterations()) * batch) {
    state.SkipWithError("not every proposal was committed");
  }
  state.SetItemsProcessed(static_cast<int64_t>(committed));
  state.SetBytesProcessed(static_cast<int64_t>(committed * kPayloadBytes));
}

BENCHMARK(BM_CommitThreeNodes)->ArgName("batch")->Arg(1)->Arg(64);

// The same load, but each round's entries go in as one ProposeBatch call: one proposal, one
// append per follower, as the server does with the proposals that arrive together.
void BM_CommitThreeNodesProposeBatch(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  InstantCluster cluster;
  const std::string payload(kPayloadBytes, 'v');
  const uint64_t before = cluster.leader_committed();
  for (auto _ : state) {
    std::vector<std::string> round(batch, payload);
    if (!cluster.leader().ProposeBatch(std::move(round)).ok()) std::abort();
    cluster.Pump();
  }
  const uint64_t committed = cluster.leader_committed() - before;
  if (committed != static_cast<uint64_t>(state.iterations()) * batch) {
    state.SkipWithError("not every proposal was committed");
  }
  state.SetItemsProcessed(static_cast<int64_t>(committed));
  state.SetBytesProcessed(static_cast<int64_t>(committed * kPayloadBytes));
}

BENCHMARK(BM_CommitThreeNodesProposeBatch)->ArgName("batch")->Arg(1)->Arg(64);

}  // namespace
}  // namespace raftkv::raft

BENCHMARK_MAIN();
