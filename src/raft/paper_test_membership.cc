// Tests for membership changes (thesis §4, paper §6), learners (thesis §4.2.1) and snapshots
// (paper §7).
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "raft/testing/cluster.h"
#include "raft/testing/messages.h"

namespace raftkv::raft::testing {
namespace {

using ::raftkv::raftpb::MSG_SNAPSHOT;

constexpr int kElectionTicks = 10;

void Elect(Cluster& c, uint64_t id) {
  ASSERT_TRUE(c.Campaign(id).ok());
  c.Stabilize();
  ASSERT_EQ(c.role(id), StateRole::kLeader);
}

raftpb::ConfChangeV2 Change(
    std::initializer_list<std::pair<raftpb::ConfChangeType, uint64_t>> cs,
    raftpb::ConfChangeTransition transition = raftpb::CONF_CHANGE_TRANSITION_AUTO) {
  raftpb::ConfChangeV2 cc;
  cc.set_transition(transition);
  for (const auto& [type, id] : cs) {
    raftpb::ConfChangeSingle* single = cc.add_changes();
    single->set_change_type(type);
    single->set_node_id(id);
  }
  return cc;
}

TEST(MembershipTest, LearnerReceivesLogButDoesNotCountTowardCommit_4_2_1) {
  Cluster c;
  c.AddNodes(3);
  Elect(c, 1);
  c.AddJoiningNodes(1);
  ASSERT_TRUE(c.ProposeConfChange(1, Change({{raftpb::CONF_CHANGE_ADD_LEARNER_NODE, 4}})).ok());
  c.Stabilize();
  ASSERT_EQ(c.status(1).conf_state.learners_size(), 1);
  c.Isolate(2);
  c.Isolate(3);
  ASSERT_TRUE(c.Propose(1, "x").ok());
  c.Stabilize();
  EXPECT_EQ(c.LogTerms(4), c.LogTerms(1)) << "the learner has the entry";
  EXPECT_LT(c.status(1).hard_state.commit(), c.storage(1).LastIndex())
      << "leader + learner is not a quorum of {1, 2, 3}";
}

TEST(MembershipTest, LearnerNeverCampaigns_4_2_1) {
  Cluster c;
  c.AddNodes(3);
  Elect(c, 1);
  c.AddJoiningNodes(1);
  ASSERT_TRUE(c.ProposeConfChange(1, Change({{raftpb::CONF_CHANGE_ADD_LEARNER_NODE, 4}})).ok());
  c.Stabilize();
  c.Isolate(4);
  c.Tick(4, 5 * kElectionTicks);
  EXPECT_EQ(c.role(4), StateRole::kFollower);
  EXPECT_EQ(c.term(4), 1u);
}

TEST(MembershipTest, LearnerPromotedToVoterCountsTowardCommit_4_2_1) {
  Cluster c;
  c.AddNodes(3);
  Elect(c, 1);
  c.AddJoiningNodes(1);
  ASSERT_TRUE(c.ProposeConfChange(1, Change({{raftpb::CONF_CHANGE_ADD_LEARNER_NODE, 4}})).ok());
  c.Stabilize();
  ASSERT_TRUE(c.ProposeConfChange(1, Change({{raftpb::CONF_CHANGE_ADD_NODE, 4}})).ok());
  c.Stabilize();
  EXPECT_EQ(c.status(1).conf_state.voters_size(), 4);
  EXPECT_EQ(c.status(1).conf_state.learners_size(), 0);
  c.Isolate(2);
  ASSERT_TRUE(c.Propose(1, "x").ok());
  c.Stabilize();
  EXPECT_EQ(c.AppliedData(1), (std::vector<std::string>{"x"})) << "1, 3 and 4 are 3 of 4";
}

TEST(MembershipTest, JointConfigurationNeedsMajorityOfBoth_4_3) {
  Cluster c;
  c.AddNodes(3);
  Elect(c, 1);
  c.AddJoiningNodes(2);
  ASSERT_TRUE(c.ProposeConfChange(1, Change({{raftpb::CONF_CHANGE_ADD_NODE, 4},
                                             {raftpb::CONF_CHANGE_ADD_NODE, 5},
                                             {raftpb::CONF_CHANGE_REMOVE_NODE, 2},
                                             {raftpb::CONF_CHANGE_REMOVE_NODE, 3}},
                                            raftpb::CONF_CHANGE_TRANSITION_JOINT_EXPLICIT))
                  .ok());
  c.Stabilize();
  ASSERT_EQ(c.status(1).conf_state.voters_outgoing_size(), 3) << "joint: (1 4 5)&&(1 2 3)";
  // The old majority alone (1, 2, 3) cannot commit: the new one (1, 4, 5) must agree too.
  c.Isolate(4);
  c.Isolate(5);
  uint64_t commit = c.status(1).hard_state.commit();
  ASSERT_TRUE(c.Propose(1, "x").ok());
  c.Stabilize();
  EXPECT_EQ(c.status(1).hard_state.commit(), commit);
  c.Heal();
  c.Tick(1);
  c.Stabilize();
  EXPECT_EQ(c.AppliedData(1), (std::vector<std::string>{"x"}));
}

TEST(MembershipTest, ExplicitJointConfigurationIsLeftByEmptyChange_4_3) {
  Cluster c;
  c.AddNodes(3);
  Elect(c, 1);
  c.AddJoiningNodes(1);
  ASSERT_TRUE(c.ProposeConfChange(1, Change({{raftpb::CONF_CHANGE_ADD_NODE, 4},
                                             {raftpb::CONF_CHANGE_REMOVE_NODE, 3}},
                                            raftpb::CONF_CHANGE_TRANSITION_JOINT_EXPLICIT))
                  .ok());
  c.Stabilize();
  ASSERT_GT(c.status(1).conf_state.voters_outgoing_size(), 0);
  ASSERT_TRUE(c.ProposeConfChange(1, raftpb::ConfChangeV2()).ok());
  c.Stabilize();
  raftpb::ConfState cs = c.status(1).conf_state;
  EXPECT_EQ(cs.voters_outgoing_size(), 0);
  EXPECT_EQ(std::set<uint64_t>(cs.voters().begin(), cs.voters().end()),
            (std::set<uint64_t>{1, 2, 4}));
}

TEST(MembershipTest, ImplicitJointConfigurationIsLeftAutomatically_4_3) {
  Cluster c;
  c.AddNodes(3);
  Elect(c, 1);
  c.AddJoiningNodes(1);
  ASSERT_TRUE(c.ProposeConfChange(1, Change({{raftpb::CONF_CHANGE_ADD_NODE, 4},
                                             {raftpb::CONF_CHANGE_REMOVE_NODE, 3}},
                                            raftpb::CONF_CHANGE_TRANSITION_JOINT_IMPLICIT))
                  .ok());
  c.Stabilize();
  c.Tick(1);
  c.Stabilize();
  raftpb::ConfState cs = c.status(1).conf_state;
  EXPECT_EQ(cs.voters_outgoing_size(), 0);
  EXPECT_EQ(std::set<uint64_t>(cs.voters().begin(), cs.voters().end()),
            (std::set<uint64_t>{1, 2, 4}));
}

TEST(MembershipTest, SecondChangeIsRefusedWhileOneIsPending_4_1) {
  Cluster c;
  c.AddNodes(3);
  Elect(c, 1);
  c.AddJoiningNodes(2);
  c.Isolate(2);
  c.Isolate(3);  // the first change cannot commit
  ASSERT_TRUE(c.ProposeConfChange(1, Change({{raftpb::CONF_CHANGE_ADD_LEARNER_NODE, 4}})).ok());
  absl::Status second = c.ProposeConfChange(1, Change({{raftpb::CONF_CHANGE_ADD_LEARNER_NODE, 5}}));
  EXPECT_FALSE(second.ok()) << "refused with an error, not dropped silently";
}

TEST(MembershipTest, LeaderRemovingItselfStepsDownOnceChangeCommits_4_2_2) {
  Cluster c;
  c.AddNodes(3);
  Elect(c, 1);
  ASSERT_TRUE(c.ProposeConfChange(1, Change({{raftpb::CONF_CHANGE_REMOVE_NODE, 1}})).ok());
  EXPECT_EQ(c.role(1), StateRole::kLeader) << "it keeps leading while the change is pending";
  c.Stabilize();
  EXPECT_NE(c.role(1), StateRole::kLeader);
  c.Tick(2, 2 * kElectionTicks);
  c.Stabilize();
  EXPECT_EQ(c.Leader(), 2u);
  EXPECT_EQ(c.status(2).conf_state.voters_size(), 2);
}

// Node 3 misses entries 2-4 while cut off, and node 1 compacts them away.
class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    c_.AddNodes(3);
    Elect(c_, 1);
    c_.Isolate(3);
    for (const char* d : {"a", "b", "c"}) ASSERT_TRUE(c_.Propose(1, d).ok());
    c_.Stabilize();
    raftpb::ConfState cs = c_.conf_state(1);
    ASSERT_TRUE(c_.storage(1).CreateSnapshot(4, &cs, "state@4").ok());
    ASSERT_TRUE(c_.storage(1).Compact(4).ok());
    c_.Heal();
  }
  Cluster c_;
};

TEST_F(SnapshotTest, LeaderSendsSnapshotForCompactedEntries_7) {
  int snapshots = 0;
  c_.SetDeliverObserver([&](const raftpb::Message& m) {
    if (m.msg_type() == MSG_SNAPSHOT && m.to() == 3) {
      ++snapshots;
      EXPECT_EQ(m.snapshot().metadata().index(), 4u);
      EXPECT_EQ(m.snapshot().data(), "state@4");
    }
  });
  c_.Tick(1);
  c_.Stabilize();
  EXPECT_EQ(snapshots, 1);
  EXPECT_EQ(c_.applied_index(3), 4u);
  EXPECT_EQ(c_.storage(3).FirstIndex(), 5u);
  EXPECT_EQ(c_.status(1).progress[3].match, 4u);
}

TEST_F(SnapshotTest, ReplicationResumesAfterSnapshot_7) {
  c_.Tick(1);
  c_.Stabilize();
  ASSERT_TRUE(c_.Propose(1, "d").ok());
  c_.Stabilize();
  c_.Tick(1);
  c_.Stabilize();
  EXPECT_EQ(c_.AppliedData(3), (std::vector<std::string>{"d"}));
  EXPECT_EQ(c_.status(1).progress[3].state, ProgressState::kReplicate);
}

TEST_F(SnapshotTest, FailedSnapshotReturnsFollowerToProbe_7) {
  c_.Drop([](const raftpb::Message&) { return true; });
  c_.DropType(MSG_SNAPSHOT);
  c_.Tick(1);
  c_.Stabilize();
  ASSERT_EQ(c_.status(1).progress[3].state, ProgressState::kSnapshot);
  c_.ReportSnapshot(1, 3, SnapshotStatus::kFailure);
  EXPECT_EQ(c_.status(1).progress[3].state, ProgressState::kProbe);
}

TEST(SnapshotRestoreTest, FollowerIgnoresSnapshotNotNewerThanCommit_7) {
  Cluster c;
  NodeSetup setup;
  setup.voters = {1, 2, 3};
  setup.log_terms = {1, 1, 1};
  setup.term = 1;
  setup.commit = 3;
  c.AddNode(1, setup);
  raftpb::Message m = MakeMessage(MSG_SNAPSHOT, 2, 1, 1);
  m.mutable_snapshot()->mutable_metadata()->set_index(2);
  m.mutable_snapshot()->mutable_metadata()->set_term(1);
  for (uint64_t v : {1, 2, 3})
    m.mutable_snapshot()->mutable_metadata()->mutable_conf_state()->add_voters(v);
  ASSERT_TRUE(c.Step(m).ok());
  EXPECT_EQ(c.storage(1).FirstIndex(), 1u) << "no restore";
  EXPECT_EQ(c.LogTerms(1), (std::vector<uint64_t>{1, 1, 1}));
}

TEST(SnapshotRestoreTest, FollowerIgnoresSnapshotOlderThanItsOwn_7) {
  // The follower has compacted its log past index 2; a delayed snapshot at index 2 is older
  // than everything it knows about, and must neither roll its log back nor lower its commit.
  Cluster c;
  NodeSetup setup;
  setup.voters = {1, 2, 3};
  setup.log_terms = {1, 1, 1, 1, 1};
  setup.term = 1;
  setup.commit = 5;
  c.AddNode(1, setup);
  raftpb::ConfState cs;
  for (uint64_t v : {1, 2, 3}) cs.add_voters(v);
  ASSERT_TRUE(c.storage(1).CreateSnapshot(4, &cs, "").ok());
  ASSERT_TRUE(c.storage(1).Compact(4).ok());
  raftpb::Message m = MakeMessage(MSG_SNAPSHOT, 2, 1, 1);
  m.mutable_snapshot()->mutable_metadata()->set_index(2);
  m.mutable_snapshot()->mutable_metadata()->set_term(1);
  *m.mutable_snapshot()->mutable_metadata()->mutable_conf_state() = cs;
  ASSERT_TRUE(c.Step(m).ok());
  EXPECT_EQ(c.hard_state(1).commit(), 5u);
  EXPECT_EQ(c.storage(1).FirstIndex(), 5u) << "no restore";
  EXPECT_EQ(c.storage(1).LastIndex(), 5u);
  auto resp = c.Pending(OfTypeTo(raftpb::MSG_APPEND_RESPONSE, 2));
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_EQ(resp[0].index(), 5u) << "the answer tells the leader what is committed here";
}

TEST(SnapshotRestoreTest, FollowerRestoresNewerSnapshotDiscardingConflictingLog_7) {
  Cluster c;
  NodeSetup setup;
  setup.voters = {1, 2, 3};
  setup.log_terms = {1, 1, 1};
  c.AddNode(1, setup);
  raftpb::Message m = MakeMessage(MSG_SNAPSHOT, 2, 1, 3);
  m.mutable_snapshot()->set_data("state@5");
  m.mutable_snapshot()->mutable_metadata()->set_index(5);
  m.mutable_snapshot()->mutable_metadata()->set_term(3);
  for (uint64_t v : {1, 2, 3})
    m.mutable_snapshot()->mutable_metadata()->mutable_conf_state()->add_voters(v);
  ASSERT_TRUE(c.Step(m).ok());
  EXPECT_EQ(c.storage(1).FirstIndex(), 6u);
  EXPECT_TRUE(c.Log(1).empty()) << "the old log conflicts with the snapshot and is discarded";
  EXPECT_EQ(c.applied_index(1), 5u);
  EXPECT_EQ(c.hard_state(1).commit(), 5u);
}

// A member added after the leader's last snapshot can only be caught up from that snapshot,
// whose configuration predates the addition and so does not list the new member. The new
// member restores it anyway, learns its own membership from the configuration entry that
// follows the snapshot in the leader's log, and from then on counts toward the quorum.
// Regression: the member used to ignore such a snapshot, answering each one at its commit
// index, so the leader resent it forever and the member never caught up.
TEST(SnapshotRestoreTest, NewMemberRestoresSnapshotThatPredatesItsAddition_4_2_1) {
  Cluster c;
  c.AddNodes(3);
  Elect(c, 1);
  for (const char* d : {"a", "b", "c"}) ASSERT_TRUE(c.Propose(1, d).ok());
  c.Stabilize();
  // The leader snapshots at index 4, while the configuration is still (1 2 3), and compacts.
  ASSERT_EQ(c.applied_index(1), 4u);
  raftpb::ConfState before_add = c.conf_state(1);
  ASSERT_TRUE(c.storage(1).CreateSnapshot(4, &before_add, "state@4").ok());
  ASSERT_TRUE(c.storage(1).Compact(4).ok());

  std::vector<raftpb::Message> snapshots_to_4;
  c.SetDeliverObserver([&](const raftpb::Message& m) {
    if (m.msg_type() == MSG_SNAPSHOT && m.to() == 4) snapshots_to_4.push_back(m);
  });
  c.AddJoiningNodes(1);
  ASSERT_TRUE(c.ProposeConfChange(1, Change({{raftpb::CONF_CHANGE_ADD_NODE, 4}})).ok());
  ASSERT_TRUE(c.Propose(1, "d").ok());
  c.Stabilize();

  // Node 4 was sent the snapshot at index 4, which does not list it ...
  ASSERT_EQ(snapshots_to_4.size(), 1u);
  const raftpb::SnapshotMetadata& meta = snapshots_to_4[0].snapshot().metadata();
  EXPECT_EQ(meta.index(), 4u);
  EXPECT_EQ(
      std::set<uint64_t>(meta.conf_state().voters().begin(), meta.conf_state().voters().end()),
      (std::set<uint64_t>{1, 2, 3}));
  // ... restored it, and then received the entries after it: its own addition (5) and "d" (6).
  EXPECT_EQ(c.storage(4).FirstIndex(), 5u);
  EXPECT_EQ(c.LogTerms(4), c.LogTerms(1));
  EXPECT_EQ(c.applied_index(4), 6u);
  EXPECT_EQ(c.AppliedData(4), (std::vector<std::string>{"d"}));
  const raftpb::ConfState cs = c.conf_state(4);
  EXPECT_EQ(std::set<uint64_t>(cs.voters().begin(), cs.voters().end()),
            (std::set<uint64_t>{1, 2, 3, 4}))
      << "the new member learned its membership from the entry after the snapshot";
  EXPECT_EQ(c.status(1).progress[4].state, ProgressState::kReplicate);
  EXPECT_EQ(c.status(1).progress[4].match, 6u);

  // A quorum of (1 2 3 4) is 3: with node 2 cut off, nothing commits without node 4's vote.
  c.Isolate(2);
  ASSERT_TRUE(c.Propose(1, "e").ok());
  c.Stabilize();
  EXPECT_EQ(c.AppliedData(1), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(c.AppliedData(4), (std::vector<std::string>{"d", "e"}));
}

// The same rule for a member that was removed and is added back: the leader's snapshot was
// taken while it was out, so the snapshot's configuration does not list it, and its old log
// ends before the snapshot. It restores the snapshot, drops its old log, and catches up.
// Regression: simulator seed 161 re-added a removed voter this way.
TEST(SnapshotRestoreTest, ReAddedMemberRestoresSnapshotTakenWhileItWasOut_4_2_1) {
  Cluster c;
  c.AddNodes(3);
  Elect(c, 1);
  ASSERT_TRUE(c.ProposeConfChange(1, Change({{raftpb::CONF_CHANGE_REMOVE_NODE, 3}})).ok());
  c.Stabilize();
  ASSERT_EQ(c.status(1).conf_state.voters_size(), 2);
  const uint64_t old_last = c.storage(3).LastIndex();
  for (const char* d : {"a", "b"}) ASSERT_TRUE(c.Propose(1, d).ok());
  c.Stabilize();
  // The leader snapshots while the configuration is (1 2), past node 3's last entry.
  const uint64_t snap = c.applied_index(1);
  ASSERT_GT(snap, old_last);
  raftpb::ConfState without_3 = c.conf_state(1);
  ASSERT_TRUE(c.storage(1).CreateSnapshot(snap, &without_3, "state").ok());
  ASSERT_TRUE(c.storage(1).Compact(snap).ok());

  ASSERT_TRUE(c.ProposeConfChange(1, Change({{raftpb::CONF_CHANGE_ADD_NODE, 3}})).ok());
  c.Stabilize();
  c.Tick(1);
  c.Stabilize();

  EXPECT_EQ(c.storage(3).FirstIndex(), snap + 1) << "node 3 restored the snapshot";
  EXPECT_EQ(c.LogTerms(3), c.LogTerms(1));
  const raftpb::ConfState cs = c.conf_state(3);
  EXPECT_EQ(std::set<uint64_t>(cs.voters().begin(), cs.voters().end()),
            (std::set<uint64_t>{1, 2, 3}));
  // A quorum of (1 2 3) is 2: with node 2 cut off, node 3's vote commits.
  c.Isolate(2);
  ASSERT_TRUE(c.Propose(1, "c").ok());
  c.Stabilize();
  EXPECT_EQ(c.AppliedData(1), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(c.AppliedData(3), (std::vector<std::string>{"c"}));
}

}  // namespace
}  // namespace raftkv::raft::testing
