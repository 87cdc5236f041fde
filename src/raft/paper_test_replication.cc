// Paper tests for §5.3 (log replication) and the AppendEntries receiver rules of Figure 2.
//
// The leader appends client commands to its log and replicates them with AppendEntries; an
// entry is committed once the leader has replicated it on a majority, and committed entries
// are applied in log order. AppendEntries carries the index and term of the entry preceding
// the new ones, and a follower refuses it unless its log matches there (the consistency
// check); a conflicting entry and all that follow it are deleted, and entries already present
// are never touched.
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "raft/testing/cluster.h"
#include "raft/testing/messages.h"

namespace raftkv::raft::testing {
namespace {

using ::raftkv::raftpb::MSG_APPEND;
using ::raftkv::raftpb::MSG_APPEND_RESPONSE;
using ::raftkv::raftpb::MSG_HEARTBEAT;

void Elect(Cluster& c, uint64_t id) {
  ASSERT_TRUE(c.Campaign(id).ok());
  c.Stabilize();
  ASSERT_EQ(c.role(id), StateRole::kLeader);
}

// A follower (node 1 of voters {1, 2, 3}) whose persisted log has the given terms.
void AddFollowerWithLog(Cluster& c, std::vector<uint64_t> terms, uint64_t term) {
  NodeSetup setup;
  setup.voters = {1, 2, 3};
  setup.log_terms = std::move(terms);
  setup.term = term;
  c.AddNode(1, setup);
}

std::vector<raftpb::Message> ResponsesTo(Cluster& c, uint64_t to) {
  return c.Pending(OfTypeTo(MSG_APPEND_RESPONSE, to));
}

TEST(PaperReplicationTest, NewLeaderAppendsEmptyEntryOfItsTerm_5_3) {
  Cluster c;
  c.AddNodes(3);
  Elect(c, 1);
  std::vector<raftpb::Entry> log = c.Log(1);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].index(), 1u);
  EXPECT_EQ(log[0].term(), 1u);
  EXPECT_TRUE(log[0].data().empty());
  for (uint64_t id : {2, 3}) EXPECT_EQ(c.LogTerms(id), (std::vector<uint64_t>{1}));
  EXPECT_EQ(c.status(1).hard_state.commit(), 1u) << "the empty entry commits on a majority";
}

TEST(PaperReplicationTest, LeaderSendsProposalToEveryFollower_5_3) {
  Cluster c;
  c.AddNodes(3);
  Elect(c, 1);
  ASSERT_TRUE(c.Propose(1, "x").ok());
  std::set<uint64_t> to;
  for (const auto& m : c.Pending(OfType(MSG_APPEND))) {
    ASSERT_EQ(m.entries_size(), 1);
    EXPECT_EQ(m.entries(0).data(), "x");
    EXPECT_EQ(m.entries(0).index(), 2u);
    EXPECT_EQ(m.entries(0).term(), 1u);
    EXPECT_EQ(m.index(), 1u) << "prev index";
    EXPECT_EQ(m.log_term(), 1u) << "prev term";
    to.insert(m.to());
  }
  EXPECT_EQ(to, (std::set<uint64_t>{2, 3}));
  EXPECT_EQ(c.LogTerms(1), (std::vector<uint64_t>{1, 1})) << "the leader appends it first";
}

TEST(PaperReplicationTest, EntryCommitsOnlyOnceMajorityHasIt_5_3) {
  Cluster c;
  c.AddNodes(5);
  Elect(c, 1);
  ASSERT_TRUE(c.Propose(1, "x").ok());
  ASSERT_TRUE(c.DeliverFirst(OfTypeTo(MSG_APPEND, 2)));
  ASSERT_TRUE(c.DeliverFirst(OfTypeFrom(MSG_APPEND_RESPONSE, 2)));
  EXPECT_EQ(c.status(1).hard_state.commit(), 1u) << "leader and one follower: 2 of 5";
  EXPECT_TRUE(c.AppliedData(1).empty());
  ASSERT_TRUE(c.DeliverFirst(OfTypeTo(MSG_APPEND, 3)));
  ASSERT_TRUE(c.DeliverFirst(OfTypeFrom(MSG_APPEND_RESPONSE, 3)));
  EXPECT_EQ(c.status(1).hard_state.commit(), 2u) << "3 of 5 is a majority";
  EXPECT_EQ(c.AppliedData(1), (std::vector<std::string>{"x"}));
}

TEST(PaperReplicationTest, CommittingAnEntryCommitsAllPrecedingEntries_5_3) {
  Cluster c;
  c.AddNodes(3);
  Elect(c, 1);
  c.Isolate(2);
  c.Isolate(3);
  for (const char* d : {"a", "b", "c"}) ASSERT_TRUE(c.Propose(1, d).ok());
  EXPECT_EQ(c.status(1).hard_state.commit(), 1u);
  c.Heal();
  c.Tick(1);  // heartbeat: the followers answer, the leader repairs and commits
  c.Stabilize();
  EXPECT_EQ(c.status(1).hard_state.commit(), 4u);
  EXPECT_EQ(c.AppliedData(1), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(PaperReplicationTest, FollowersApplyCommittedEntriesInLogOrder_5_3) {
  Cluster c;
  c.AddNodes(3);
  Elect(c, 1);
  for (const char* d : {"a", "b", "c", "d"}) ASSERT_TRUE(c.Propose(1, d).ok());
  c.Stabilize();
  c.Tick(1);  // a heartbeat carries the final commit index to the followers
  c.Stabilize();
  for (uint64_t id : {1, 2, 3}) {
    EXPECT_EQ(c.AppliedData(id), (std::vector<std::string>{"a", "b", "c", "d"})) << "node " << id;
    EXPECT_EQ(c.applied_index(id), 5u) << "node " << id;
  }
}

TEST(PaperReplicationTest, FollowerLearnsCommitIndexFromLeader_5_3) {
  Cluster c;
  c.AddNodes(3);
  Elect(c, 1);
  ASSERT_TRUE(c.Propose(1, "x").ok());
  c.Drop(OfTypeTo(MSG_APPEND, 3));
  c.Stabilize();
  ASSERT_EQ(c.status(1).hard_state.commit(), 2u);
  // Node 2 stored the entry but learns that it is committed only from a later message.
  c.Tick(1);
  c.Stabilize();
  EXPECT_EQ(c.status(2).hard_state.commit(), 2u);
  EXPECT_EQ(c.AppliedData(2), (std::vector<std::string>{"x"}));
}

TEST(PaperReplicationTest, FollowerRejectsAppendWhosePrevTermMismatches_5_3) {
  Cluster c;
  AddFollowerWithLog(c, {1, 1}, 2);
  ASSERT_TRUE(c.Step(MakeAppend(2, 1, 2, 2, 2, {MakeEntry(3, 2)})).ok());
  EXPECT_EQ(c.LogTerms(1), (std::vector<uint64_t>{1, 1}));
  EXPECT_EQ(c.status(1).soft_state.leader, 2u) << "the append is from the current leader";
}

TEST(PaperReplicationTest, FollowerRejectsAppendWhosePrevIndexIsMissing_5_3) {
  Cluster c;
  AddFollowerWithLog(c, {1}, 1);
  ASSERT_TRUE(c.Step(MakeAppend(2, 1, 1, 3, 1, {MakeEntry(4, 1)})).ok());
  EXPECT_EQ(c.LogTerms(1), (std::vector<uint64_t>{1}));
}

TEST(PaperReplicationTest, RejectionIsSentBackToTheLeader_5_3) {
  Cluster c;
  AddFollowerWithLog(c, {1, 1}, 2);
  NodeSetup leader;
  leader.voters = {1, 2, 3};
  leader.log_terms = {1, 2, 2};
  leader.term = 2;
  c.AddNode(2, leader);
  ASSERT_TRUE(c.Step(MakeAppend(2, 1, 2, 2, 2, {MakeEntry(3, 2)})).ok());
  auto resp = ResponsesTo(c, 2);
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_TRUE(resp[0].reject());
  EXPECT_EQ(resp[0].term(), 2u);
}

TEST(PaperReplicationTest, FollowerAcceptsAppendMatchingPrev_5_3) {
  Cluster c;
  AddFollowerWithLog(c, {1, 1}, 2);
  NodeSetup leader;
  leader.voters = {1, 2, 3};
  leader.log_terms = {1, 1, 2};
  c.AddNode(2, leader);
  ASSERT_TRUE(c.Step(MakeAppend(2, 1, 2, 2, 1, {MakeEntry(3, 2, "z")})).ok());
  EXPECT_EQ(c.LogTerms(1), (std::vector<uint64_t>{1, 1, 2}));
  auto resp = ResponsesTo(c, 2);
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_FALSE(resp[0].reject());
  EXPECT_EQ(resp[0].index(), 3u) << "the response names the last entry it now matches";
}

TEST(PaperReplicationTest, FollowerDeletesConflictingEntryAndAllThatFollow_5_3) {
  Cluster c;
  AddFollowerWithLog(c, {1, 1, 1, 1}, 1);
  // The new leader of term 2 matches at index 1 and has a different entry at index 2.
  ASSERT_TRUE(c.Step(MakeAppend(2, 1, 2, 1, 1, {MakeEntry(2, 2, "new")})).ok());
  std::vector<raftpb::Entry> log = c.Log(1);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].term(), 2u);
  EXPECT_EQ(log[1].data(), "new");
}

TEST(PaperReplicationTest, FollowerAppendsOnlyNewEntriesAfterMatchingOnes_5_3) {
  Cluster c;
  AddFollowerWithLog(c, {1, 1, 2}, 2);
  ASSERT_TRUE(c.Step(MakeAppend(2, 1, 3, 1, 1,
                                {MakeEntry(2, 1), MakeEntry(3, 3, "p"), MakeEntry(4, 3, "q")}))
                  .ok());
  EXPECT_EQ(c.LogTerms(1), (std::vector<uint64_t>{1, 1, 3, 3}));
}

TEST(PaperReplicationTest, DuplicatedAppendNeverTruncatesMatchingEntries_5_3) {
  Cluster c;
  AddFollowerWithLog(c, {1, 1, 1, 1, 1}, 1);
  // A retransmission of an old append that covers only a prefix of the log: the entries that
  // follow it may already be committed, so deleting them would lose committed data.
  ASSERT_TRUE(c.Step(MakeAppend(2, 1, 1, 1, 1, {MakeEntry(2, 1), MakeEntry(3, 1)})).ok());
  EXPECT_EQ(c.LogTerms(1), (std::vector<uint64_t>{1, 1, 1, 1, 1}));
  for (const auto& m : ResponsesTo(c, 2)) EXPECT_FALSE(m.reject()) << DescribeMessage(m);
}

TEST(PaperReplicationTest, ReorderedOlderAppendNeverTruncatesNewerEntries_5_3) {
  Cluster c;
  AddFollowerWithLog(c, {1}, 1);
  raftpb::Message older = MakeAppend(2, 1, 1, 1, 1, {MakeEntry(2, 1, "a")});
  raftpb::Message newer =
      MakeAppend(2, 1, 1, 1, 1, {MakeEntry(2, 1, "a"), MakeEntry(3, 1, "b"), MakeEntry(4, 1, "c")});
  ASSERT_TRUE(c.Step(newer).ok());
  ASSERT_TRUE(c.Step(older).ok());
  EXPECT_EQ(c.LogTerms(1), (std::vector<uint64_t>{1, 1, 1, 1}));
}

TEST(PaperReplicationTest, FollowerCommitIsCappedAtLastNewEntry_Figure2) {
  // Figure 2, AppendEntries rule 5: commitIndex = min(leaderCommit, index of last new entry).
  // Entries 3 and 4 are a deposed leader's; the new leader's commit index 3 refers to *its*
  // entry 3, which this follower has not verified yet.
  Cluster c;
  AddFollowerWithLog(c, {1, 1, 3, 3}, 3);
  ASSERT_TRUE(c.Step(MakeAppend(2, 1, 4, 1, 1, {}, 3)).ok());
  EXPECT_EQ(c.hard_state(1).commit(), 1u);
  EXPECT_EQ(c.applied_index(1), 1u);
}

TEST(PaperReplicationTest, HeartbeatCommitIsCappedAtFollowerMatch_5_3) {
  Cluster c;
  c.AddNodes(3);
  Elect(c, 1);
  c.Isolate(3);
  for (const char* d : {"a", "b"}) ASSERT_TRUE(c.Propose(1, d).ok());
  c.Stabilize();
  ASSERT_EQ(c.status(1).hard_state.commit(), 3u);
  c.Heal();
  c.Tick(1);
  auto to3 = c.Pending(OfTypeTo(MSG_HEARTBEAT, 3));
  ASSERT_EQ(to3.size(), 1u);
  // Node 3 only matches up to index 1: telling it commit=3 could make it apply entries it does
  // not have, or different entries at those indexes.
  EXPECT_EQ(to3[0].commit(), 1u);
  auto to2 = c.Pending(OfTypeTo(MSG_HEARTBEAT, 2));
  ASSERT_EQ(to2.size(), 1u);
  EXPECT_EQ(to2[0].commit(), 3u);
}

TEST(PaperReplicationTest, LeaderRetriesUntilFollowerCatchesUp_5_3) {
  Cluster c;
  c.AddNodes(3);
  Elect(c, 1);
  for (const char* d : {"a", "b"}) {
    ASSERT_TRUE(c.Propose(1, d).ok());
    EXPECT_EQ(c.Drop(OfTypeTo(MSG_APPEND, 3)), 1) << "lost on the way to node 3";
  }
  c.Stabilize();
  c.Tick(1);
  c.Stabilize();
  c.Tick(1);
  c.Stabilize();
  EXPECT_EQ(c.LogTerms(3), (std::vector<uint64_t>{1, 1, 1}));
  EXPECT_EQ(c.AppliedData(3), (std::vector<std::string>{"a", "b"}));
}

TEST(PaperReplicationTest, LogsMatchAfterLeaderChanges_LogMatching_5_3) {
  Cluster c;
  c.AddNodes(5);
  Elect(c, 1);
  ASSERT_TRUE(c.Propose(1, "one").ok());
  c.Stabilize();
  c.Isolate(1);
  ASSERT_TRUE(c.Propose(1, "lost").ok());  // the cut-off leader can never commit this
  c.Stabilize();
  Elect(c, 2);
  ASSERT_TRUE(c.Propose(2, "two").ok());
  c.Stabilize();
  c.Heal();
  c.Tick(2);
  c.Stabilize();
  c.Tick(2);
  c.Stabilize();
  for (uint64_t id : c.ids()) {
    EXPECT_EQ(c.LogTerms(id), c.LogTerms(2)) << "node " << id;
    EXPECT_EQ(c.AppliedData(id), (std::vector<std::string>{"one", "two"})) << "node " << id;
  }
}

}  // namespace
}  // namespace raftkv::raft::testing
