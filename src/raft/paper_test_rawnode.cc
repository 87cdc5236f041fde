// Tests of the RawNode contract: what each Ready asks the application to do, and in which
// order. Figure 2 makes currentTerm, votedFor and log[] persistent state "updated on stable
// storage before responding to RPCs"; the Ready keeps the responses that depend on it in
// persisted_messages. These tests drive a RawNode directly, without the cluster harness.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "raft/testing/cluster.h"
#include "raft/testing/messages.h"
#include "raftkv/raft/memory_storage.h"
#include "raftkv/raft/raw_node.h"

namespace raftkv::raft::testing {
namespace {

using ::raftkv::raftpb::MSG_APPEND;
using ::raftkv::raftpb::MSG_APPEND_RESPONSE;
using ::raftkv::raftpb::MSG_REQUEST_VOTE_RESPONSE;

// Node 1 of voters {1, 2, 3} over its own MemoryStorage.
class RawNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    raftpb::ConfState cs;
    for (uint64_t id : {1, 2, 3}) cs.add_voters(id);
    ASSERT_TRUE(storage_.Bootstrap(cs).ok());
    node_ = Create();
  }

  std::unique_ptr<RawNode> Create() {
    Config config;
    config.id = 1;
    config.election_ticks = 10;
    config.heartbeat_ticks = 1;
    config.storage = &storage_;
    config.random_seed = 42;
    auto node = RawNode::Create(config);
    EXPECT_TRUE(node.ok()) << node.status();
    return node.ok() ? std::move(node).value() : nullptr;
  }

  // Handles every pending Ready the way an application must; returns all messages sent.
  std::vector<raftpb::Message> Drain() {
    std::vector<raftpb::Message> sent;
    while (node_->HasReady()) {
      Ready rd = node_->GetReady();
      sent.insert(sent.end(), rd.messages.begin(), rd.messages.end());
      if (!rd.entries.empty()) {
        EXPECT_TRUE(storage_.Append(rd.entries).ok());
      }
      if (rd.hard_state.has_value()) storage_.SetHardState(*rd.hard_state);
      sent.insert(sent.end(), rd.persisted_messages.begin(), rd.persisted_messages.end());
      node_->Advance();
    }
    return sent;
  }

  // Campaigns and collects the votes of 2 and 3.
  void BecomeLeader() {
    ASSERT_TRUE(node_->Campaign().ok());
    Drain();
    uint64_t term = node_->GetStatus().hard_state.term();
    for (uint64_t peer : {2, 3}) {
      ASSERT_TRUE(node_->Step(MakeMessage(raftpb::MSG_REQUEST_VOTE_RESPONSE, peer, 1, term)).ok());
    }
    Drain();
    ASSERT_EQ(node_->GetStatus().soft_state.role, StateRole::kLeader);
  }

  MemoryStorage storage_;
  std::unique_ptr<RawNode> node_;
};

TEST_F(RawNodeTest, VoteResponseWaitsForHardStateInSameReady_5_2) {
  ASSERT_TRUE(node_->Step(MakeVoteRequest(2, 1, 1, 0, 0)).ok());
  ASSERT_TRUE(node_->HasReady());
  Ready rd = node_->GetReady();
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->term(), 1u);
  EXPECT_EQ(rd.hard_state->vote(), 2u);
  EXPECT_TRUE(rd.must_sync);
  EXPECT_TRUE(Filter(rd.messages, OfType(MSG_REQUEST_VOTE_RESPONSE)).empty())
      << "a vote must not leave before the vote is durable";
  auto votes = Filter(rd.persisted_messages, OfType(MSG_REQUEST_VOTE_RESPONSE));
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_FALSE(votes[0].reject());
  node_->Advance();
}

TEST_F(RawNodeTest, AppendResponseWaitsForEntriesInSameReady_5_3) {
  ASSERT_TRUE(node_->Step(MakeAppend(2, 1, 1, 0, 0, {MakeEntry(1, 1, "x")})).ok());
  Ready rd = node_->GetReady();
  ASSERT_EQ(rd.entries.size(), 1u);
  EXPECT_EQ(rd.entries[0].data(), "x");
  EXPECT_TRUE(rd.must_sync);
  EXPECT_TRUE(Filter(rd.messages, OfType(MSG_APPEND_RESPONSE)).empty());
  auto acks = Filter(rd.persisted_messages, OfType(MSG_APPEND_RESPONSE));
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].index(), 1u);
  node_->Advance();
}

TEST_F(RawNodeTest, LeaderSendsAppendsWithoutWaitingForItsOwnDisk) {
  // Thesis §10.2.1: the leader may write its log in parallel with replicating it.
  BecomeLeader();
  // Acknowledge the leader's first append so that both followers leave the probe state
  // (which would hold further appends back).
  for (uint64_t peer : {2, 3}) {
    raftpb::Message ack = MakeMessage(MSG_APPEND_RESPONSE, peer, 1, 1);
    ack.set_index(storage_.LastIndex());
    ASSERT_TRUE(node_->Step(ack).ok());
  }
  Drain();
  ASSERT_TRUE(node_->Propose("p").ok());
  Ready rd = node_->GetReady();
  ASSERT_EQ(rd.entries.size(), 1u);
  EXPECT_EQ(rd.entries[0].data(), "p");
  EXPECT_EQ(Filter(rd.messages, OfType(MSG_APPEND)).size(), 2u);
  node_->Advance();
}

TEST_F(RawNodeTest, CommittedEntriesComeBackForApplying_5_3) {
  BecomeLeader();
  ASSERT_TRUE(node_->Propose("p").ok());
  Drain();
  raftpb::Message ack = MakeMessage(MSG_APPEND_RESPONSE, 2, 1, 1);
  ack.set_index(2);
  ASSERT_TRUE(node_->Step(ack).ok());
  std::vector<std::string> committed;
  while (node_->HasReady()) {
    Ready rd = node_->GetReady();
    for (const auto& e : rd.committed_entries) committed.push_back(e.data());
    if (!rd.entries.empty()) {
      ASSERT_TRUE(storage_.Append(rd.entries).ok());
    }
    if (rd.hard_state.has_value()) storage_.SetHardState(*rd.hard_state);
    node_->Advance();
  }
  EXPECT_EQ(committed, (std::vector<std::string>{"", "p"}));
}

TEST_F(RawNodeTest, ProposeWithoutLeaderIsDropped) {
  absl::Status s = node_->Propose("nobody to take it");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(IsProposalDropped(s)) << s;
}

TEST_F(RawNodeTest, ProposeOnCandidateIsDropped) {
  ASSERT_TRUE(node_->Campaign().ok());
  Drain();
  EXPECT_TRUE(IsProposalDropped(node_->Propose("x")));
}

class StepLocalMessageTest : public RawNodeTest,
                             public ::testing::WithParamInterface<raftpb::MessageType> {};

TEST_P(StepLocalMessageTest, StepRefusesLocalOnlyMessageType) {
  raftpb::Message m = MakeMessage(GetParam(), 2, 1, 1);
  absl::Status s = node_->Step(m);
  EXPECT_TRUE(IsStepLocalMessage(s)) << s;
  EXPECT_EQ(node_->GetStatus().hard_state.term(), 0u) << "and ignores it";
}

INSTANTIATE_TEST_SUITE_P(RawNode, StepLocalMessageTest,
                         ::testing::Values(raftpb::MSG_HUP, raftpb::MSG_BEAT,
                                           raftpb::MSG_UNREACHABLE, raftpb::MSG_SNAP_STATUS,
                                           raftpb::MSG_CHECK_QUORUM));

TEST_F(RawNodeTest, IdleNodeHasNoReady) {
  Drain();
  EXPECT_FALSE(node_->HasReady());
  node_->Tick();  // far below the election timeout
  EXPECT_FALSE(node_->HasReady());
}

TEST_F(RawNodeTest, CampaignProducesReadyWithHardStateAndRole) {
  Drain();
  ASSERT_TRUE(node_->Campaign().ok());
  ASSERT_TRUE(node_->HasReady());
  Ready rd = node_->GetReady();
  ASSERT_TRUE(rd.soft_state.has_value());
  EXPECT_EQ(rd.soft_state->role, StateRole::kCandidate);
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->term(), 1u);
  EXPECT_EQ(rd.hard_state->vote(), 1u);
  node_->Advance();
}

TEST_F(RawNodeTest, AdvanceAcknowledgesReadySoItIsNotRepeated) {
  ASSERT_TRUE(node_->Step(MakeAppend(2, 1, 1, 0, 0, {MakeEntry(1, 1, "x")})).ok());
  Ready first = node_->GetReady();
  ASSERT_TRUE(storage_.Append(first.entries).ok());
  if (first.hard_state.has_value()) storage_.SetHardState(*first.hard_state);
  node_->Advance();
  while (node_->HasReady()) {
    Ready rd = node_->GetReady();
    EXPECT_TRUE(rd.entries.empty()) << "entries already persisted are not handed out again";
    EXPECT_TRUE(Filter(rd.persisted_messages, OfType(MSG_APPEND_RESPONSE)).empty());
    node_->Advance();
  }
}

TEST_F(RawNodeTest, SoftStateReportsLeaderOnElection) {
  ASSERT_TRUE(node_->Campaign().ok());
  Drain();
  uint64_t term = node_->GetStatus().hard_state.term();
  ASSERT_TRUE(node_->Step(MakeMessage(MSG_REQUEST_VOTE_RESPONSE, 2, 1, term)).ok());
  std::optional<SoftState> last;
  while (node_->HasReady()) {
    Ready rd = node_->GetReady();
    if (rd.soft_state.has_value()) last = rd.soft_state;
    if (!rd.entries.empty()) {
      ASSERT_TRUE(storage_.Append(rd.entries).ok());
    }
    if (rd.hard_state.has_value()) storage_.SetHardState(*rd.hard_state);
    node_->Advance();
  }
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->role, StateRole::kLeader);
  EXPECT_EQ(last->leader, 1u);
}

TEST_F(RawNodeTest, RestartKeepsTermVoteAndLog_Figure2) {
  ASSERT_TRUE(node_->Step(MakeVoteRequest(2, 1, 3, 0, 0)).ok());
  Drain();
  ASSERT_TRUE(node_->Step(MakeAppend(2, 1, 3, 0, 0, {MakeEntry(1, 3, "kept")})).ok());
  Drain();
  node_.reset();
  node_ = Create();
  Status st = node_->GetStatus();
  EXPECT_EQ(st.hard_state.term(), 3u);
  EXPECT_EQ(st.hard_state.vote(), 2u);
  EXPECT_EQ(storage_.LastIndex(), 1u);
  // The vote of term 3 survives the restart: a second candidate of term 3 is refused.
  ASSERT_TRUE(node_->Step(MakeVoteRequest(3, 1, 3, 5, 3)).ok());
  auto sent = Drain();
  auto votes = Filter(sent, OfType(MSG_REQUEST_VOTE_RESPONSE));
  for (const auto& v : votes) EXPECT_TRUE(v.reject()) << DescribeMessage(v);
}

TEST_F(RawNodeTest, StatusOfLeaderListsProgressOfEveryVoter) {
  EXPECT_TRUE(node_->GetStatus().progress.empty()) << "only a leader tracks progress";
  BecomeLeader();
  Status st = node_->GetStatus();
  EXPECT_EQ(st.id, 1u);
  EXPECT_EQ(st.soft_state.leader, 1u);
  EXPECT_EQ(st.progress.size(), 3u);
  EXPECT_EQ(st.progress[1].match, storage_.LastIndex()) << "the leader matches itself";
}

TEST(ConfigTest, CreateRefusesInvalidConfig) {
  MemoryStorage storage;
  raftpb::ConfState cs;
  cs.add_voters(1);
  ASSERT_TRUE(storage.Bootstrap(cs).ok());
  Config good;
  good.id = 1;
  good.storage = &storage;
  ASSERT_TRUE(good.Validate().ok());

  Config no_id = good;
  no_id.id = 0;
  EXPECT_EQ(RawNode::Create(no_id).status().code(), absl::StatusCode::kInvalidArgument);
  Config no_storage = good;
  no_storage.storage = nullptr;
  EXPECT_EQ(RawNode::Create(no_storage).status().code(), absl::StatusCode::kInvalidArgument);
  Config slow_heartbeat = good;
  slow_heartbeat.heartbeat_ticks = slow_heartbeat.election_ticks;
  EXPECT_EQ(RawNode::Create(slow_heartbeat).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace raftkv::raft::testing
