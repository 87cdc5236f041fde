// Leader-side features of the core: PreVote (thesis §9.6), CheckQuorum (thesis §6.2),
// leadership transfer (thesis §3.10), ReadIndex (thesis §6.4), proposal handling, snapshots
// (§7) and the uncommitted-size limit. One behaviour per test.
#include "gtest/gtest.h"
#include "raft/testing/cluster.h"

namespace raftkv::raft {
namespace {

using testing::Cluster;
using testing::ClusterOptions;

std::unique_ptr<Cluster> LedCluster(ClusterOptions options = {}, int nodes = 3) {
  auto c = std::make_unique<Cluster>(options);
  c->AddNodes(nodes);
  EXPECT_TRUE(c->Campaign(1).ok());
  c->Stabilize();
  EXPECT_EQ(c->Leader(), 1u);
  return c;
}

void TickAndStabilize(Cluster& c, int ticks) {
  for (int i = 0; i < ticks; ++i) {
    c.TickAll();
    c.Stabilize();
  }
}

TEST(PreVoteTest, IsolatedNodeDoesNotRaiseItsTerm_Thesis9_6) {
  ClusterOptions o;
  o.pre_vote = true;
  auto c = LedCluster(o);
  const uint64_t term = c->term(3);
  c->Isolate(3);
  for (int i = 0; i < 100; ++i) c->Tick(3);
  EXPECT_EQ(c->term(3), term);
  EXPECT_EQ(c->role(3), StateRole::kPreCandidate);
}

TEST(PreVoteTest, RejoiningNodeDoesNotDisruptTheLeader_Thesis9_6) {
  ClusterOptions o;
  o.pre_vote = true;
  auto c = LedCluster(o);
  const uint64_t term = c->term(1);
  c->Isolate(3);
  for (int i = 0; i < 100; ++i) c->Tick(3);
  c->Heal();
  TickAndStabilize(*c, 30);
  EXPECT_EQ(c->Leader(), 1u);
  EXPECT_EQ(c->term(1), term);
}

TEST(PreVoteTest, WithoutPreVoteARejoiningNodeRaisesTheTerm_5_1) {
  auto c = LedCluster();
  const uint64_t term = c->term(1);
  c->Isolate(3);
  for (int i = 0; i < 100; ++i) c->Tick(3);
  EXPECT_GT(c->term(3), term);
}

TEST(CheckQuorumTest, LeaderInMinorityStepsDown_Thesis6_2) {
  ClusterOptions o;
  o.check_quorum = true;
  auto c = LedCluster(o);
  c->Isolate(1);
  for (int i = 0; i < 2 * o.election_ticks + 1; ++i) c->Tick(1);
  EXPECT_EQ(c->role(1), StateRole::kFollower);
}

TEST(CheckQuorumTest, LeaderHearingFromQuorumStaysLeader_Thesis6_2) {
  ClusterOptions o;
  o.check_quorum = true;
  auto c = LedCluster(o);
  TickAndStabilize(*c, 5 * o.election_ticks);
  EXPECT_EQ(c->Leader(), 1u);
}

TEST(CheckQuorumTest, FollowerWithRecentLeaderIgnoresVoteRequests_Thesis4_2_3) {
  ClusterOptions o;
  o.check_quorum = true;
  auto c = LedCluster(o);
  raftpb::Message vote;
  vote.set_msg_type(raftpb::MSG_REQUEST_VOTE);
  vote.set_from(3);
  vote.set_to(2);
  vote.set_term(c->term(2) + 5);
  vote.set_index(100);
  vote.set_log_term(100);
  const uint64_t term = c->term(2);
  ASSERT_TRUE(c->Step(vote).ok());
  EXPECT_EQ(c->term(2), term);
  EXPECT_TRUE(c->Pending([](const raftpb::Message& m) {
                 return m.msg_type() == raftpb::MSG_REQUEST_VOTE_RESPONSE;
               }).empty());
}

TEST(TransferTest, UpToDateTargetBecomesLeader_Thesis3_10) {
  auto c = LedCluster();
  c->TransferLeader(1, 2);
  c->Stabilize();
  EXPECT_EQ(c->Leader(), 2u);
}

TEST(TransferTest, LaggingTargetIsCaughtUpFirst_Thesis3_10) {
  auto c = LedCluster();
  c->Isolate(3);
  ASSERT_TRUE(c->Propose(1, "x").ok());
  c->Stabilize();
  c->Heal();
  c->TransferLeader(1, 3);
  c->Stabilize();
  EXPECT_EQ(c->Leader(), 3u);
  EXPECT_EQ(c->AppliedData(3), std::vector<std::string>{"x"});
}

TEST(TransferTest, ProposalsAreRefusedDuringTransfer_Thesis3_10) {
  auto c = LedCluster();
  c->Isolate(3);
  c->TransferLeader(1, 3);
  const absl::Status s = c->Propose(1, "x");
  EXPECT_TRUE(IsProposalDropped(s)) << s;
}

TEST(TransferTest, TransferIsAbortedAfterAnElectionTimeout_Thesis3_10) {
  ClusterOptions o;
  auto c = LedCluster(o);
  c->Isolate(3);
  c->TransferLeader(1, 3);
  ASSERT_EQ(c->status(1).lead_transferee, 3u);
  c->Tick(1, o.election_ticks);
  EXPECT_EQ(c->status(1).lead_transferee, 0u);
  EXPECT_TRUE(c->Propose(1, "after abort").ok());
}

TEST(ReadIndexTest, LeaderAnswersAfterAHeartbeatQuorum_Thesis6_4) {
  auto c = LedCluster();
  ASSERT_TRUE(c->Propose(1, "w").ok());
  c->Stabilize();
  const uint64_t commit = c->status(1).hard_state.commit();
  c->ReadIndex(1, "ctx");
  EXPECT_TRUE(c->read_states(1).empty()) << "answered before confirming leadership";
  c->Stabilize();
  ASSERT_EQ(c->read_states(1).size(), 1u);
  EXPECT_EQ(c->read_states(1)[0].index, commit);
  EXPECT_EQ(c->read_states(1)[0].request_ctx, "ctx");
}

TEST(ReadIndexTest, FollowerReadIsForwardedToTheLeader_Thesis6_4) {
  auto c = LedCluster();
  c->ReadIndex(2, "f");
  c->Stabilize();
  ASSERT_EQ(c->read_states(2).size(), 1u);
  EXPECT_EQ(c->read_states(2)[0].index, c->status(1).hard_state.commit());
}

TEST(ReadIndexTest, DeposedLeaderNeverAnswers_Thesis6_4) {
  auto c = LedCluster();
  c->Isolate(1);
  c->ReadIndex(1, "stale");
  // The majority elects a new leader and commits a write the old leader never sees.
  for (int i = 0; i < 100 && (c->Leader() == 1 || c->Leader() == 0); ++i) {
    c->Tick(2);
    c->Tick(3);
    c->Stabilize();
  }
  ASSERT_NE(c->Leader(), 1u);
  c->TickAll(5);
  c->Stabilize();
  EXPECT_TRUE(c->read_states(1).empty());
}

TEST(ReadIndexTest, LeaseBasedReadsRequireCheckQuorum_Thesis6_4_1) {
  MemoryStorage storage;
  Config config;
  config.id = 1;
  config.storage = &storage;
  config.read_only_option = ReadOnlyOption::kLeaseBased;
  EXPECT_EQ(config.Validate().code(), absl::StatusCode::kInvalidArgument);
  config.check_quorum = true;
  EXPECT_TRUE(config.Validate().ok());
}

TEST(ReadIndexTest, LeaseBasedLeaderAnswersWithoutAHeartbeatRound_Thesis6_4_1) {
  ClusterOptions o;
  o.check_quorum = true;
  o.read_only_option = ReadOnlyOption::kLeaseBased;
  auto c = LedCluster(o);
  c->ReadIndex(1, "lease");
  EXPECT_EQ(c->read_states(1).size(), 1u);
}

TEST(ProposalTest, DisabledForwardingRefusesOnFollowers) {
  ClusterOptions o;
  o.disable_proposal_forwarding = true;
  auto c = LedCluster(o);
  const absl::Status s = c->Propose(2, "x");
  EXPECT_TRUE(IsProposalDropped(s)) << s;
}

TEST(SnapshotTest, FollowerBehindCompactionIsCaughtUpBySnapshot_7) {
  auto c = LedCluster();
  c->Isolate(3);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c->Propose(1, "e" + std::to_string(i)).ok());
  c->Stabilize();
  const uint64_t applied = c->applied_index(1);
  const raftpb::ConfState cs = c->conf_state(1);
  ASSERT_TRUE(c->storage(1).CreateSnapshot(applied, &cs, "state").ok());
  ASSERT_TRUE(c->storage(1).Compact(applied).ok());
  c->Heal();
  TickAndStabilize(*c, 3);
  const auto& msgs = c->status(1).progress;
  EXPECT_EQ(msgs.at(3).match, c->status(1).hard_state.commit());
  EXPECT_EQ(c->storage(3).FirstIndex(), applied + 1);
}

TEST(SnapshotTest, SnapshotNotNewerThanCommitIsIgnored_7) {
  auto c = LedCluster();
  ASSERT_TRUE(c->Propose(1, "x").ok());
  c->Stabilize();
  raftpb::Message m;
  m.set_msg_type(raftpb::MSG_SNAPSHOT);
  m.set_from(1);
  m.set_to(2);
  m.set_term(c->term(1));
  m.mutable_snapshot()->mutable_metadata()->set_index(1);
  m.mutable_snapshot()->mutable_metadata()->set_term(1);
  *m.mutable_snapshot()->mutable_metadata()->mutable_conf_state() = c->conf_state(1);
  const uint64_t last = c->storage(2).LastIndex();
  ASSERT_TRUE(c->Step(m).ok());
  EXPECT_EQ(c->storage(2).LastIndex(), last);
  EXPECT_EQ(c->storage(2).FirstIndex(), 1u);
}

// Regression (seed 24 of the safety property test): every append of a full replicate window
// was lost, so no acknowledgement could ever free the window and the follower starved.
TEST(FlowControlTest, LostReplicateWindowIsRecoveredByHeartbeats) {
  ClusterOptions o;
  o.max_inflight_msgs = 2;
  auto c = LedCluster(o);
  ASSERT_TRUE(c->Propose(1, "warm-up").ok());
  c->Stabilize();
  ASSERT_EQ(c->status(1).progress.at(3).state, ProgressState::kReplicate);
  c->Isolate(3);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(c->Propose(1, "v" + std::to_string(i)).ok());
    c->Stabilize();
  }
  c->Heal();
  ASSERT_TRUE(c->status(1).progress.at(3).paused);
  TickAndStabilize(*c, 3);
  EXPECT_EQ(c->AppliedData(3), (std::vector<std::string>{"warm-up", "v0", "v1", "v2", "v3"}));
}

// As above, but while the window was lost the leader committed more entries without the
// follower and compacted its log past the whole window, so no append can settle the window
// any more. The leader must give up on it, probe, find the entries compacted, and send a
// snapshot (§7). Regression (simulator seed 66): the leader sent nothing at all, and the
// follower's window stayed full forever.
TEST(FlowControlTest, LostReplicateWindowBehindCompactionIsRecoveredBySnapshot_7) {
  ClusterOptions o;
  o.max_inflight_msgs = 2;
  auto c = LedCluster(o);
  ASSERT_TRUE(c->Propose(1, "warm-up").ok());
  c->Stabilize();
  ASSERT_EQ(c->status(1).progress.at(3).state, ProgressState::kReplicate);
  c->Isolate(3);
  // v0 and v1 fill node 3's window and are lost; v2 and v3 are not even sent to it.
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(c->Propose(1, "v" + std::to_string(i)).ok());
    c->Stabilize();
  }
  ASSERT_TRUE(c->status(1).progress.at(3).paused);
  const uint64_t window_end = c->status(1).progress.at(3).next - 1;
  const uint64_t applied = c->applied_index(1);
  ASSERT_GT(applied, window_end);
  const raftpb::ConfState cs = c->conf_state(1);
  ASSERT_TRUE(c->storage(1).CreateSnapshot(applied, &cs, "state").ok());
  ASSERT_TRUE(c->storage(1).Compact(applied).ok());

  int snapshots_to_3 = 0;
  c->SetDeliverObserver([&](const raftpb::Message& m) {
    if (m.msg_type() == raftpb::MSG_SNAPSHOT && m.to() == 3) ++snapshots_to_3;
  });
  c->Heal();
  TickAndStabilize(*c, 3);
  EXPECT_EQ(snapshots_to_3, 1);
  EXPECT_EQ(c->storage(3).FirstIndex(), applied + 1);
  EXPECT_EQ(c->status(1).progress.at(3).match, applied);
  // Replication resumes after the snapshot.
  ASSERT_TRUE(c->Propose(1, "after").ok());
  c->Stabilize();
  EXPECT_EQ(c->AppliedData(3), (std::vector<std::string>{"warm-up", "after"}));
  EXPECT_EQ(c->status(1).progress.at(3).state, ProgressState::kReplicate);
}

TEST(FlowControlTest, UncommittedSizeLimitDropsProposals) {
  // max_uncommitted_entries_size_bytes is not in ClusterOptions: build a node directly.
  MemoryStorage storage;
  raftpb::ConfState cs;
  cs.add_voters(1);
  cs.add_voters(2);
  ASSERT_TRUE(storage.Bootstrap(cs).ok());
  Config config;
  config.id = 1;
  config.storage = &storage;
  config.max_uncommitted_entries_size_bytes = 10;
  auto node = RawNode::Create(config);
  ASSERT_TRUE(node.ok());
  // Win an election with the vote of node 2, delivered by hand.
  ASSERT_TRUE((*node)->Campaign().ok());
  Ready rd = (*node)->GetReady();
  ASSERT_TRUE(storage.Append(rd.entries).ok());
  if (rd.hard_state) storage.SetHardState(*rd.hard_state);
  (*node)->Advance();
  raftpb::Message vote;
  vote.set_msg_type(raftpb::MSG_REQUEST_VOTE_RESPONSE);
  vote.set_from(2);
  vote.set_to(1);
  vote.set_term(1);
  ASSERT_TRUE((*node)->Step(vote).ok());
  ASSERT_EQ((*node)->GetStatus().soft_state.role, StateRole::kLeader);
  EXPECT_TRUE((*node)->Propose("123456").ok());
  EXPECT_TRUE((*node)->Propose("1234").ok());
  const absl::Status s = (*node)->Propose("1");
  EXPECT_TRUE(IsProposalDropped(s)) << s;
}

}  // namespace
}  // namespace raftkv::raft
