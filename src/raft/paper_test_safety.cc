// Paper tests for §5.4 (safety): the election restriction (§5.4.1) and committing entries
// from previous terms (§5.4.2).
//
// §5.4.1: a voter denies its vote if its own log is more up-to-date than the candidate's:
// "If the logs have last entries with different terms, then the log with the later term is
// more up-to-date. If the logs end with the same term, then whichever log is longer is more
// up-to-date."
// §5.4.2: "Raft never commits log entries from previous terms by counting replicas. Only log
// entries from the leader's current term are committed by counting replicas."
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "raft/testing/cluster.h"
#include "raft/testing/messages.h"

namespace raftkv::raft::testing {
namespace {

using ::raftkv::raftpb::MSG_APPEND;
using ::raftkv::raftpb::MSG_REQUEST_VOTE_RESPONSE;

struct VoteCase {
  const char* name;
  std::vector<uint64_t> voter_log;  // terms of the voter's entries
  uint64_t candidate_last_index;
  uint64_t candidate_last_term;
  bool granted;
};

class UpToDateVoteTest : public ::testing::TestWithParam<VoteCase> {};

TEST_P(UpToDateVoteTest, VoteFollowsElectionRestriction_5_4_1) {
  const VoteCase& vc = GetParam();
  Cluster c;
  NodeSetup setup;
  setup.voters = {1, 2, 3};
  setup.log_terms = vc.voter_log;
  c.AddNode(1, setup);
  uint64_t term = 10;  // above every log term: only the logs decide
  ASSERT_TRUE(
      c.Step(MakeVoteRequest(2, 1, term, vc.candidate_last_index, vc.candidate_last_term)).ok());
  auto resp = c.Pending(OfTypeTo(MSG_REQUEST_VOTE_RESPONSE, 2));
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_EQ(!resp[0].reject(), vc.granted);
  EXPECT_EQ(resp[0].term(), term);
  EXPECT_EQ(c.hard_state(1).vote(), vc.granted ? 2u : 0u);
  EXPECT_EQ(c.hard_state(1).term(), term) << "the higher term is adopted either way (§5.1)";
}

INSTANTIATE_TEST_SUITE_P(
    PaperSafety, UpToDateVoteTest,
    ::testing::Values(VoteCase{"LowerLastTermDenied", {1, 2}, 5, 1, false},
                      VoteCase{"LowerLastTermLongerLogDenied", {1, 1, 3}, 9, 2, false},
                      VoteCase{"SameLastTermShorterDenied", {1, 2, 2}, 2, 2, false},
                      VoteCase{"SameLastTermEqualLengthGranted", {1, 2, 2}, 3, 2, true},
                      VoteCase{"SameLastTermLongerGranted", {1, 2}, 4, 2, true},
                      VoteCase{"HigherLastTermShorterGranted", {1, 1, 1}, 2, 2, true},
                      VoteCase{"EmptyVoterLogGrants", {}, 0, 0, true},
                      VoteCase{"EmptyCandidateLogDenied", {1}, 0, 0, false}),
    [](const ::testing::TestParamInfo<VoteCase>& info) { return std::string(info.param.name); });

// Node 1 leads term 3 with log [1, 2] and followers whose logs stop at index 1: the term-2
// entry at index 2 is from a previous term. Appends carry one entry each (byte limit 1) so the
// test can replicate entry 2 without entry 3. Node 3 is cut off.
class PreviousTermCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClusterOptions options;
    options.max_size_per_msg_bytes = 1;
    cluster_ = std::make_unique<Cluster>(options);
    Cluster& c = *cluster_;
    NodeSetup leader;
    leader.voters = {1, 2, 3};
    leader.log_terms = {1, 2};
    leader.term = 2;
    c.AddNode(1, leader);
    NodeSetup follower = leader;
    follower.log_terms = {1};
    c.AddNode(2, follower);
    c.AddNode(3, follower);
    c.Isolate(3);
    ASSERT_TRUE(c.Campaign(1).ok());
  }

  // Delivers in FIFO order until quiet, but holds back the new leader's own entry: an append
  // carrying term-3 entries is delivered cut short before them (a valid, shorter append), and
  // the original is kept in held_.
  void DeliverHoldingCurrentTerm() {
    Cluster& c = *cluster_;
    for (int rounds = 0; rounds < 1000 && !c.InFlight().empty(); ++rounds) {
      for (raftpb::Message m : c.TakeInFlight()) {
        if (m.msg_type() == MSG_APPEND) {
          int keep = 0;
          while (keep < m.entries_size() && m.entries(keep).term() != 3) ++keep;
          if (keep < m.entries_size()) {
            held_.push_back(m);
            m.mutable_entries()->DeleteSubrange(keep, m.entries_size() - keep);
          }
        }
        (void)c.Step(m);
      }
    }
  }

  std::unique_ptr<Cluster> cluster_;
  std::vector<raftpb::Message> held_;
};

TEST_F(PreviousTermCommitTest, LeaderDoesNotCommitPreviousTermEntryByCountingReplicas_5_4_2) {
  Cluster& c = *cluster_;
  DeliverHoldingCurrentTerm();
  ASSERT_EQ(c.role(1), StateRole::kLeader);
  ASSERT_EQ(c.term(1), 3u);
  ASSERT_EQ(c.LogTerms(2), (std::vector<uint64_t>{1, 2})) << "entry 2 is on a majority";
  EXPECT_EQ(c.status(1).hard_state.commit(), 0u);
  EXPECT_TRUE(c.applied(1).empty());
}

TEST_F(PreviousTermCommitTest, CurrentTermEntryCommitsPreviousTermEntriesIndirectly_5_4_2) {
  Cluster& c = *cluster_;
  DeliverHoldingCurrentTerm();
  ASSERT_EQ(c.status(1).hard_state.commit(), 0u);
  ASSERT_FALSE(held_.empty());
  for (const auto& m : held_) c.Send(m);
  held_.clear();
  c.Stabilize();
  EXPECT_EQ(c.status(1).hard_state.commit(), 3u);
  EXPECT_EQ(c.applied_index(1), 3u);
  ASSERT_EQ(c.applied(1).size(), 3u);
  EXPECT_EQ(c.applied(1)[1].term(), 2u) << "the term-2 entry is committed with the term-3 one";
}

TEST(PaperSafetyTest, CandidateMissingCommittedEntryCannotWin_5_4_1) {
  Cluster c;
  c.AddNodes(3);
  ASSERT_TRUE(c.Campaign(1).ok());
  c.Stabilize();
  c.Isolate(3);
  ASSERT_TRUE(c.Propose(1, "committed").ok());
  c.Stabilize();
  ASSERT_EQ(c.AppliedData(1), (std::vector<std::string>{"committed"}));
  // Node 3 missed the committed entry; node 2 has it, so it refuses to vote for node 3, and
  // node 1 is still leader. Node 3 cannot assemble a majority.
  c.Heal();
  c.Isolate(1);
  ASSERT_TRUE(c.Campaign(3).ok());
  c.Stabilize();
  EXPECT_NE(c.role(3), StateRole::kLeader);
  // Node 2, which has the entry, can win; the entry survives (Leader Completeness).
  ASSERT_TRUE(c.Campaign(2).ok());
  c.Stabilize();
  ASSERT_EQ(c.role(2), StateRole::kLeader);
  c.Tick(2);
  c.Stabilize();
  EXPECT_EQ(c.AppliedData(3), (std::vector<std::string>{"committed"}));
}

TEST(PaperSafetyTest, EntryOfDeposedLeaderIsNeverApplied_5_4) {
  Cluster c;
  c.AddNodes(3);
  ASSERT_TRUE(c.Campaign(1).ok());
  c.Stabilize();
  c.Isolate(1);
  ASSERT_TRUE(c.Propose(1, "orphan").ok());
  ASSERT_TRUE(c.Campaign(2).ok());
  c.Stabilize();
  ASSERT_TRUE(c.Propose(2, "kept").ok());
  c.Stabilize();
  c.Heal();
  for (int i = 0; i < 3; ++i) {
    c.Tick(2);
    c.Stabilize();
  }
  for (uint64_t id : c.ids()) {
    EXPECT_EQ(c.AppliedData(id), (std::vector<std::string>{"kept"})) << "node " << id;
  }
}

}  // namespace
}  // namespace raftkv::raft::testing
