// RawNode API contract tests: the Ready/Advance cycle, input validation and error kinds.
// (Protocol rules are covered by the paper tests; these check the driver-facing contract.)
#include "raftkv/raft/raw_node.h"

#include <map>
#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raftkv/raft/memory_storage.h"
#include "raftkv/raft/ready_loop.h"

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

TEST(RawNodeTest, ProposeBatchSendsOneAppendPerFollower) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.node(1).Campaign().ok());
  c.Stabilize();
  ASSERT_TRUE(c.node(1).ProposeBatch({"a", "b", "c"}).ok());
  Ready rd = c.node(1).GetReady();
  ASSERT_EQ(rd.entries.size(), 3u);
  ASSERT_EQ(rd.messages.size(), 2u);
  for (const auto& m : rd.messages) {
    EXPECT_EQ(m.msg_type(), raftpb::MSG_APPEND);
    EXPECT_EQ(m.entries_size(), 3);
  }
}

TEST(RawNodeTest, ProposeBatchCommitsEveryEntryInOrder) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.node(1).Campaign().ok());
  c.Stabilize();
  ASSERT_TRUE(c.node(2).ProposeBatch({"a", "b"}).ok());  // forwarded whole
  c.Stabilize();
  for (uint64_t id : {1, 2, 3}) {
    ASSERT_EQ(c.applied(id).size(), 3u) << "node " << id;
    EXPECT_EQ(c.applied(id)[1].data(), "a");
    EXPECT_EQ(c.applied(id)[2].data(), "b");
  }
}

TEST(RawNodeTest, EmptyProposeBatchIsInvalid) {
  Cluster c({1});
  EXPECT_EQ(c.node(1).ProposeBatch({}).code(), absl::StatusCode::kInvalidArgument);
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

TEST(RawNodeTest, StatusOfLeaderListsEveryPeersProgress) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.node(1).Campaign().ok());
  c.Stabilize();
  const Status s = c.node(1).GetStatus();
  EXPECT_EQ(s.id, 1u);
  EXPECT_EQ(s.soft_state.leader, 1u);
  EXPECT_EQ(s.hard_state.term(), 1u);
  ASSERT_EQ(s.progress.size(), 3u);
  EXPECT_EQ(s.progress.at(2).match, s.hard_state.commit());
  EXPECT_EQ(s.progress.at(2).state, ProgressState::kReplicate);
  EXPECT_EQ(s.conf_state.voters_size(), 3);
}

TEST(RawNodeTest, StatusOfFollowerHasNoProgress) {
  Cluster c({1, 2, 3});
  ASSERT_TRUE(c.node(1).Campaign().ok());
  c.Stabilize();
  const Status s = c.node(2).GetStatus();
  EXPECT_EQ(s.soft_state.role, StateRole::kFollower);
  EXPECT_EQ(s.soft_state.leader, 1u);
  EXPECT_TRUE(s.progress.empty());
  EXPECT_EQ(s.applied, s.hard_state.commit());
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

namespace raftkv::raft {
namespace {

raftpb::Message AppendFrom(uint64_t from, uint64_t term, uint64_t prev_index, uint64_t prev_term,
                           std::vector<std::pair<uint64_t, uint64_t>> entries, uint64_t commit) {
  raftpb::Message m;
  m.set_msg_type(raftpb::MSG_APPEND);
  m.set_from(from);
  m.set_to(1);
  m.set_term(term);
  m.set_index(prev_index);
  m.set_log_term(prev_term);
  m.set_commit(commit);
  for (auto [index, t] : entries) {
    raftpb::Entry* e = m.add_entries();
    e->set_index(index);
    e->set_term(t);
  }
  return m;
}

std::unique_ptr<RawNode> Follower(MemoryStorage* storage) {
  EXPECT_TRUE(storage->Bootstrap(Voters({1, 2, 3})).ok());
  Config c;
  c.id = 1;
  c.storage = storage;
  auto node = RawNode::Create(c);
  EXPECT_TRUE(node.ok());
  return *std::move(node);
}

TEST(RawNodeReadyContractTest, EntriesOverwrittenBeforeAdvanceAreHandedOutAgain) {
  MemoryStorage storage;
  auto node = Follower(&storage);
  ASSERT_TRUE(node->Step(AppendFrom(2, 1, 0, 0, {{1, 1}, {2, 1}}, 0)).ok());
  Ready first = node->GetReady();
  ASSERT_EQ(first.entries.size(), 2u);
  // Before the application reports `first` persisted, a new leader overwrites index 2.
  ASSERT_TRUE(node->Step(AppendFrom(3, 2, 1, 1, {{2, 2}}, 0)).ok());
  ASSERT_TRUE(storage.Append(first.entries).ok());
  node->Advance();
  ASSERT_TRUE(node->HasReady());
  Ready second = node->GetReady();
  ASSERT_EQ(second.entries.size(), 1u);
  EXPECT_EQ(second.entries[0].index(), 2u);
  EXPECT_EQ(second.entries[0].term(), 2u);
}

TEST(RawNodeReadyContractTest, AppendResponseIsAPersistedMessage) {
  MemoryStorage storage;
  auto node = Follower(&storage);
  ASSERT_TRUE(node->Step(AppendFrom(2, 1, 0, 0, {{1, 1}}, 0)).ok());
  Ready rd = node->GetReady();
  ASSERT_EQ(rd.persisted_messages.size(), 1u);
  EXPECT_EQ(rd.persisted_messages[0].msg_type(), raftpb::MSG_APPEND_RESPONSE);
  EXPECT_EQ(rd.persisted_messages[0].index(), 1u);
  for (const auto& m : rd.messages) EXPECT_NE(m.msg_type(), raftpb::MSG_APPEND_RESPONSE);
}

TEST(RawNodeReadyContractTest, CommittedEntriesAreHandedOutOnce) {
  MemoryStorage storage;
  auto node = Follower(&storage);
  ASSERT_TRUE(node->Step(AppendFrom(2, 1, 0, 0, {{1, 1}, {2, 1}}, 2)).ok());
  Ready rd = node->GetReady();
  EXPECT_EQ(rd.committed_entries.size(), 2u);
  ASSERT_TRUE(storage.Append(rd.entries).ok());
  node->Advance();
  EXPECT_FALSE(node->HasReady());
  EXPECT_EQ(node->GetStatus().applied, 2u);
}

TEST(RawNodeReadyContractTest, LeaderAppendsGoOutBeforeItsOwnPersistence) {
  MemoryStorage storage;
  ASSERT_TRUE(storage.Bootstrap(Voters({1, 2})).ok());
  Config c;
  c.id = 1;
  c.storage = &storage;
  auto node = *RawNode::Create(c);
  ASSERT_TRUE(node->Campaign().ok());
  Ready rd = node->GetReady();
  if (rd.hard_state) storage.SetHardState(*rd.hard_state);
  node->Advance();
  raftpb::Message vote;
  vote.set_msg_type(raftpb::MSG_REQUEST_VOTE_RESPONSE);
  vote.set_from(2);
  vote.set_to(1);
  vote.set_term(1);
  ASSERT_TRUE(node->Step(vote).ok());
  rd = node->GetReady();
  ASSERT_EQ(rd.entries.size(), 1u);
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_EQ(rd.messages[0].msg_type(), raftpb::MSG_APPEND);
  EXPECT_EQ(rd.messages[0].entries_size(), 1);
}

// A MemoryStorage whose Entries fails its first `failures` calls, as a log whose disk returns
// an I/O or checksum error. It recovers afterwards only so that a node that keeps asking ends
// its test instead of hanging it.
class UnreadableEntriesStorage final : public Storage {
 public:
  explicit UnreadableEntriesStorage(int failures) : failures_left_(failures) {}

  absl::Status InitialState(raftpb::HardState* hard_state,
                            raftpb::ConfState* conf_state) const override {
    return inner.InitialState(hard_state, conf_state);
  }
  absl::StatusOr<std::vector<raftpb::Entry>> Entries(uint64_t lo, uint64_t hi,
                                                     uint64_t max_size_bytes) const override {
    ++entries_calls;
    if (failures_left_ > 0) {
      --failures_left_;
      return absl::DataLossError("checksum mismatch in segment 3 at offset 4096");
    }
    return inner.Entries(lo, hi, max_size_bytes);
  }
  absl::StatusOr<uint64_t> Term(uint64_t i) const override { return inner.Term(i); }
  uint64_t LastIndex() const override { return inner.LastIndex(); }
  uint64_t FirstIndex() const override { return inner.FirstIndex(); }
  absl::StatusOr<raftpb::Snapshot> Snapshot() const override { return inner.Snapshot(); }

  MemoryStorage inner;
  mutable int entries_calls = 0;

 private:
  mutable int failures_left_;
};

// Applies nothing but counts what it is asked to do.
class CountingHandler final : public ReadyHandler {
 public:
  void Send(std::vector<raftpb::Message>) override {}
  absl::Status Persist(const Ready&) override {
    ++persists;
    return absl::OkStatus();
  }
  absl::Status Apply(const Ready& ready) override {
    applied += ready.committed_entries.size();
    return absl::OkStatus();
  }
  int persists = 0;
  size_t applied = 0;
};

// A node whose storage cannot return the committed entries it must apply cannot make
// progress: the Ready loop must stop with the storage's error instead of asking again forever
// (the entries stay "ready", so a loop that only logs the error never ends).
TEST(RawNodeStorageErrorTest, UnreadableCommittedEntriesStopTheReadyLoopWithTheStorageError) {
  UnreadableEntriesStorage storage(/*failures=*/1000);
  ASSERT_TRUE(storage.inner.Bootstrap(Voters({1})).ok());
  std::vector<raftpb::Entry> entries(3);
  for (uint64_t i = 1; i <= 3; ++i) {
    entries[i - 1].set_index(i);
    entries[i - 1].set_term(1);
  }
  ASSERT_TRUE(storage.inner.Append(entries).ok());
  raftpb::HardState hs;
  hs.set_term(1);
  hs.set_commit(3);
  storage.inner.SetHardState(hs);
  Config c;
  c.id = 1;
  c.storage = &storage;
  auto node = RawNode::Create(c);
  ASSERT_TRUE(node.ok()) << node.status();

  CountingHandler handler;
  absl::Status s = HandleReadies(**node, handler);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("committed entries"));
  EXPECT_THAT(std::string(s.message()),
              ::testing::HasSubstr("checksum mismatch in segment 3 at offset 4096"));
  EXPECT_EQ(storage.entries_calls, 1) << "the Ready loop kept asking a failing storage";
  EXPECT_EQ(handler.persists, 0) << "the incomplete Ready was handled";
  EXPECT_EQ(handler.applied, 0u);
  // The node keeps the error and hands out nothing more.
  EXPECT_EQ((*node)->Error(), s);
  EXPECT_FALSE((*node)->HasReady());
}

}  // namespace
}  // namespace raftkv::raft
