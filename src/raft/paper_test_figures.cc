// The paper's worked examples: Figure 7 (follower logs a new leader must repair, §5.3) and
// Figure 8 (why a leader cannot commit previous-term entries by counting replicas, §5.4.2).
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "raft/testing/cluster.h"
#include "raft/testing/messages.h"

namespace raftkv::raft::testing {
namespace {

using ::raftkv::raftpb::MSG_APPEND;

// --- Figure 7 ---------------------------------------------------------------------------------

// The log of the leader of term 8 (top row of Figure 7), before it appends its empty entry.
const std::vector<uint64_t> kFigure7Leader = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6};

struct Figure7Case {
  const char* name;
  std::vector<uint64_t> follower;
};

class Figure7Test : public ::testing::TestWithParam<Figure7Case> {};

// Node 1 has the leader's log and node 3 a copy of it (so that node 1 can win whatever node 2
// holds); node 2 has the follower log of the case. Node 1 campaigns and becomes the leader of
// term 8; the follower must end with exactly the leader's log.
TEST_P(Figure7Test, NewLeaderOfTerm8RepairsFollowerLog_Figure7_5_3) {
  const Figure7Case& fc = GetParam();
  Cluster c;
  NodeSetup leader;
  leader.voters = {1, 2, 3};
  leader.log_terms = kFigure7Leader;
  leader.term = 7;
  c.AddNode(1, leader);
  NodeSetup follower = leader;
  follower.log_terms = fc.follower;
  c.AddNode(2, follower);
  c.AddNode(3, leader);

  ASSERT_TRUE(c.Campaign(1).ok());
  c.Stabilize();
  ASSERT_EQ(c.role(1), StateRole::kLeader);
  ASSERT_EQ(c.term(1), 8u);
  c.Tick(1);  // a heartbeat tells the followers the final commit index
  c.Stabilize();

  std::vector<uint64_t> expected = kFigure7Leader;
  expected.push_back(8);
  EXPECT_EQ(c.LogTerms(1), expected) << "the leader never overwrites its own log";
  EXPECT_EQ(c.LogTerms(2), expected);
  EXPECT_EQ(c.status(1).hard_state.commit(), expected.size());
  EXPECT_EQ(c.applied_index(2), expected.size());
}

INSTANTIATE_TEST_SUITE_P(
    PaperFigures, Figure7Test,
    ::testing::Values(Figure7Case{"a_MissingOneEntry", {1, 1, 1, 4, 4, 5, 5, 6, 6}},
                      Figure7Case{"b_MissingManyEntries", {1, 1, 1, 4}},
                      Figure7Case{"c_ExtraUncommittedEntry", {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6}},
                      Figure7Case{"d_ExtraEntriesOfLaterTerm",
                                  {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7}},
                      Figure7Case{"e_MissingAndExtraEntries", {1, 1, 1, 4, 4, 4, 4}},
                      Figure7Case{"f_ManyConflictingEntries", {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3}}),
    [](const ::testing::TestParamInfo<Figure7Case>& info) { return std::string(info.param.name); });

// --- Figure 8 ---------------------------------------------------------------------------------

// The state of Figure 8 (b)-(c) before S1 is re-elected: S1 and S2 hold entry 2 of term 2, S5
// holds entry 2 of term 3 (it led term 3 briefly), S3 and S4 only entry 1. S5 is down.
// Appends carry one entry at a time so that the test can hold back the term-4 entry.
class Figure8Test : public ::testing::Test {
 protected:
  void SetUp() override {
    ClusterOptions options;
    options.max_size_per_msg_bytes = 1;
    c_ = std::make_unique<Cluster>(options);
    NodeSetup setup;
    setup.voters = {1, 2, 3, 4, 5};
    setup.term = 3;
    for (uint64_t id : {1, 2, 3, 4, 5}) {
      if (id <= 2) setup.log_terms = {1, 2};
      if (id == 3 || id == 4) setup.log_terms = {1};
      if (id == 5) setup.log_terms = {1, 3};
      c_->AddNode(id, setup);
    }
    c_->Crash(5);
  }

  // Campaigns until `id` leads, at most `attempts` times. Returns whether it won.
  bool CampaignUntilLeader(uint64_t id, int attempts) {
    for (int i = 0; i < attempts; ++i) {
      if (!c_->Campaign(id).ok()) return false;
      c_->Stabilize();
      if (c_->role(id) == StateRole::kLeader) return true;
    }
    return false;
  }

  std::unique_ptr<Cluster> c_;
};

TEST_F(Figure8Test, PreviousTermEntryOnMajorityIsNotCommittedAndMayBeOverwritten_5_4_2) {
  Cluster& c = *c_;
  // (c): S1 leads term 4 and copies entry 2 (term 2) to S3, but its own term-4 entry reaches
  // no one (each append is delivered cut short before it).
  ASSERT_TRUE(c.Campaign(1).ok());
  for (int rounds = 0; rounds < 1000 && !c.InFlight().empty(); ++rounds) {
    for (raftpb::Message m : c.TakeInFlight()) {
      if (m.to() == 4) continue;  // S4 hears nothing from S1
      if (m.msg_type() == MSG_APPEND) {
        int keep = 0;
        while (keep < m.entries_size() && m.entries(keep).term() != 4) ++keep;
        m.mutable_entries()->DeleteSubrange(keep, m.entries_size() - keep);
      }
      (void)c.Step(m);
    }
  }
  ASSERT_EQ(c.role(1), StateRole::kLeader);
  ASSERT_EQ(c.term(1), 4u);
  ASSERT_EQ(c.LogTerms(3), (std::vector<uint64_t>{1, 2})) << "entry 2 is on S1, S2, S3";
  EXPECT_EQ(c.status(1).hard_state.commit(), 0u) << "§5.4.2: not committed by counting replicas";

  // (d): S1 crashes, S5 comes back and is elected with votes from S2, S3 and S4 (its last term
  // 3 beats their 2), then overwrites entry 2 everywhere. Had S1 counted replicas, a committed
  // entry would be lost now.
  c.Crash(1);
  c.Restart(5);
  ASSERT_TRUE(CampaignUntilLeader(5, 3));
  c.Tick(5);
  c.Stabilize();
  for (uint64_t id : {2, 3, 4}) {
    std::vector<uint64_t> terms = c.LogTerms(id);
    ASSERT_GE(terms.size(), 2u) << "node " << id;
    EXPECT_EQ(terms[1], 3u) << "node " << id << ": entry 2 now comes from S5's term 3";
  }
  for (uint64_t id : {2, 3, 4, 5}) {
    for (const auto& e : c.applied(id)) EXPECT_NE(e.term(), 2u) << "node " << id;
  }
}

TEST_F(Figure8Test, CurrentTermEntryOnMajorityCommitsAndProtectsEarlierEntries_5_4_2) {
  Cluster& c = *c_;
  // (e): S1 leads term 4 and replicates its term-4 entry to S2 and S3 (a majority with itself).
  c.Isolate(4);
  ASSERT_TRUE(c.Campaign(1).ok());
  c.Stabilize();
  ASSERT_EQ(c.role(1), StateRole::kLeader);
  EXPECT_EQ(c.status(1).hard_state.commit(), 3u);
  ASSERT_EQ(c.applied(1).size(), 3u);
  EXPECT_EQ(c.applied(1)[1].term(), 2u) << "entry 2 is committed through entry 3";

  // S1 crashes and S5 returns: S2 and S3 hold a term-4 entry, so S5 can never win.
  c.Crash(1);
  c.Heal();
  c.Restart(5);
  EXPECT_FALSE(CampaignUntilLeader(5, 3));

  // S2 can, and entry 2 of term 2 survives everywhere, S5's conflicting entry included.
  ASSERT_TRUE(CampaignUntilLeader(2, 3));
  c.Tick(2);
  c.Stabilize();
  for (uint64_t id : {2, 3, 4, 5}) {
    std::vector<uint64_t> terms = c.LogTerms(id);
    ASSERT_GE(terms.size(), 3u) << "node " << id;
    EXPECT_EQ(terms[1], 2u) << "node " << id;
    EXPECT_EQ(terms[2], 4u) << "node " << id;
  }
}

}  // namespace
}  // namespace raftkv::raft::testing
