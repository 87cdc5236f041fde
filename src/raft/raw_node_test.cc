// RawNode API contract tests: the Ready/Advance cycle, input validation and error kinds.
// (Protocol rules are covered by the paper tests; these check the driver-facing contract.)
#include "raftkv/raft/raw_node.h"

#include <map>
#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "raftkv/raft/memory_storage.h"

namespace raftkv::raft {
namespace {

raftpb::ConfState Voters(std::vector<uint64_t> ids) {
  raftpb::ConfState cs;
  for (uint64_t id : ids) cs.add_voters(id);
  return cs;
}

// A tiny in-process cluster with instant, in-order delivery; enough to drive RawNodes
// through the Ready contract exactly as an application would.
class Cluster {
 public:
  explicit Cluster(std::vector<uint64_t> ids, bool pre_vote = false) {
    for (uint64_t id : ids) {
      auto& n = nodes_[id];
      n.storage = std::make_unique<MemoryStorage>();
      EXPECT_TRUE(n.storage->Bootstrap(Voters(ids)).ok());
      Config c;
      c.id = id;
      c.storage = n.storage.get();
      c.random_seed = id;
      c.pre_vote = pre_vote;
      auto node = RawNode::Create(c);
      EXPECT_TRUE(node.ok()) << node.status();
      n.node = *std::move(node);
    }
  }

  RawNode& node(uint64_t id) { return *nodes_.at(id).node; }
  MemoryStorage& storage(uint64_t id) { return *nodes_.at(id).storage; }
  const std::vector<raftpb::Entry>& applied(uint64_t id) { return nodes_.at(id).applied; }

  // Handles every node's Ready in the documented order until nothing is left to do.
  void Stabilize() {
    for (int round = 0; round < 1000; ++round) {
      bool any = false;
      for (auto& [id, n] : nodes_) {
        if (!n.node->HasReady()) continue;
        any = true;
        Ready rd = n.node->GetReady();
        for (auto& m : rd.messages) inbox_.push_back(m);
        if (rd.snapshot) {
          ASSERT_TRUE(n.storage->ApplySnapshot(*rd.snapshot).ok());
        }
        ASSERT_TRUE(n.storage->Append(rd.entries).ok());
        if (rd.hard_state) n.storage->SetHardState(*rd.hard_state);
        for (auto& m : rd.persisted_messages) inbox_.push_back(m);
        for (auto& e : rd.committed_entries) n.applied.push_back(e);
        n.node->Advance();
      }
      std::vector<raftpb::Message> batch;
      batch.swap(inbox_);
      for (auto& m : batch) {
        any = true;
        (void)nodes_.at(m.to()).node->Step(m);
      }
      if (!any) return;
    }
    FAIL() << "cluster did not stabilize";
  }

 private:
  struct Node {
    std::unique_ptr<MemoryStorage> storage;
    std::unique_ptr<RawNode> node;
    std::vector<raftpb::Entry> applied;
  };
  std::map<uint64_t, Node> nodes_;
  std::vector<raftpb::Message> inbox_;
};

TEST(RawNodeTest, CreateRejectsInvalidConfig) {
  MemoryStorage storage;
  Config c;
  c.id = 0;
  c.storage = &storage;
  auto node = RawNode::Create(c);
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RawNodeTest, SingleNodeCampaignsAndCommitsItsProposal) {
  Cluster c({1});
  ASSERT_TRUE(c.node(1).Campaign().ok());
  c.Stabilize();
  EXPECT_EQ(c.node(1).GetStatus().soft_state.role, StateRole::kLeader);
  ASSERT_TRUE(c.node(1).Propose("hello").ok());
  c.Stabilize();
  ASSERT_EQ(c.applied(1).size(), 2u);  // the leader's empty entry, then the proposal
  EXPECT_EQ(c.applied(1)[1].data(), "hello");
}

TEST(RawNodeTest, ThreeNodesElectOneLeaderAndReplicate) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.node(1).Campaign().ok());
  c.Stabilize();
  EXPECT_EQ(c.node(1).GetStatus().soft_state.role, StateRole::kLeader);
  EXPECT_EQ(c.node(2).GetStatus().soft_state.leader, 1u);
  ASSERT_TRUE(c.node(1).Propose("x").ok());
  c.Stabilize();
  for (uint64_t id : {1, 2, 3}) {
    ASSERT_EQ(c.applied(id).size(), 2u) << "node " << id;
    EXPECT_EQ(c.applied(id)[1].data(), "x");
  }
}

TEST(RawNodeTest, FollowerForwardsProposalToLeader) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.node(1).Campaign().ok());
  c.Stabilize();
  ASSERT_TRUE(c.node(3).Propose("via follower").ok());
  c.Stabilize();
  ASSERT_EQ(c.applied(1).size(), 2u);
  EXPECT_EQ(c.applied(1)[1].data(), "via follower");
}

TEST(RawNodeTest, ProposalWithoutLeaderIsDropped) {
  Cluster c({1, 2, 3});
  const absl::Status s = c.node(2).Propose("x");
  EXPECT_TRUE(IsProposalDropped(s)) << s;
}

TEST(RawNodeTest, LocalMessageFromNetworkIsRejected) {
  Cluster c({1, 2, 3});
  raftpb::Message m;
  m.set_msg_type(raftpb::MSG_HUP);
  m.set_from(2);
  m.set_to(1);
  const absl::Status s = c.node(1).Step(m);
  EXPECT_TRUE(IsStepLocalMessage(s)) << s;
}

TEST(RawNodeTest, ResponseFromUnknownPeerIsRejected) {
  Cluster c({1, 2, 3});
  raftpb::Message m;
  m.set_msg_type(raftpb::MSG_APPEND_RESPONSE);
  m.set_from(9);
  m.set_to(1);
  m.set_term(1);
  const absl::Status s = c.node(1).Step(m);
  EXPECT_TRUE(IsStepPeerNotFound(s)) << s;
}

TEST(RawNodeTest, VoteResponsesWaitForPersistence) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.node(1).Campaign().ok());
  Ready rd = c.node(1).GetReady();
  EXPECT_TRUE(rd.messages.empty());
  ASSERT_EQ(rd.persisted_messages.size(), 2u);
  EXPECT_EQ(rd.persisted_messages[0].msg_type(), raftpb::MSG_REQUEST_VOTE);
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->vote(), 1u);
  EXPECT_TRUE(rd.must_sync);
}

TEST(RawNodeTest, LeaderDoesNotCommitBeforeItsOwnEntryIsPersisted) {
  Cluster c({1});
  ASSERT_TRUE(c.node(1).Campaign().ok());
  Ready rd = c.node(1).GetReady();
  ASSERT_EQ(rd.entries.size(), 1u);
  // The empty entry of the new term is not committed until the application reports it
  // persisted.
  EXPECT_TRUE(rd.committed_entries.empty());
  EXPECT_EQ(c.node(1).GetStatus().hard_state.commit(), 0u);
  ASSERT_TRUE(c.storage(1).Append(rd.entries).ok());
  c.node(1).Advance();
  EXPECT_EQ(c.node(1).GetStatus().hard_state.commit(), 1u);
}

}  // namespace
}  // namespace raftkv::raft
