// Tests for how the leader repairs and feeds followers: fast log backtracking (§5.3, the
// optimization described at the end of the section) and flow control (probe / replicate
// states, the in-flight window and the per-message byte limit).
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "raft/testing/cluster.h"
#include "raft/testing/messages.h"

namespace raftkv::raft::testing {
namespace {

using ::raftkv::raftpb::MSG_APPEND;
using ::raftkv::raftpb::MSG_APPEND_RESPONSE;

std::vector<uint64_t> Repeat(uint64_t term, int count) {
  return std::vector<uint64_t>(count, term);
}

std::vector<uint64_t> Concat(std::vector<std::vector<uint64_t>> parts) {
  std::vector<uint64_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Node 1 (with leader_log, and node 3 with a copy) becomes leader; node 2 holds follower_log.
// Returns the number of appends node 2 rejected while it was repaired.
int RejectionsWhileRepairing(const std::vector<uint64_t>& leader_log,
                             const std::vector<uint64_t>& follower_log) {
  Cluster c;
  NodeSetup leader;
  leader.voters = {1, 2, 3};
  leader.log_terms = leader_log;
  c.AddNode(1, leader);
  c.AddNode(3, leader);
  NodeSetup follower = leader;
  follower.log_terms = follower_log;
  c.AddNode(2, follower);
  int rejections = 0;
  c.SetDeliverObserver([&](const raftpb::Message& m) {
    if (m.msg_type() == MSG_APPEND_RESPONSE && m.from() == 2 && m.reject()) ++rejections;
  });
  EXPECT_TRUE(c.Campaign(1).ok());
  c.Stabilize();
  EXPECT_EQ(c.role(1), StateRole::kLeader);
  EXPECT_EQ(c.LogTerms(2), c.LogTerms(1)) << "the follower is repaired";
  return rejections;
}

TEST(PaperFlowTest, FastBacktrackingSkipsAWholeConflictingTermPerRoundTrip_5_3) {
  // 40 conflicting entries in two terms: entry-by-entry backtracking needs ~40 round trips;
  // with the conflicting term in the rejection it needs one per term at most.
  std::vector<uint64_t> leader = Concat({{1}, Repeat(4, 10)});
  std::vector<uint64_t> follower = Concat({{1}, Repeat(2, 20), Repeat(3, 20)});
  EXPECT_LE(RejectionsWhileRepairing(leader, follower), 3);
}

TEST(PaperFlowTest, FastBacktrackingJumpsToTheEndOfAShortFollowerLog_5_3) {
  // A follower missing 50 entries names its last index in the rejection.
  std::vector<uint64_t> leader = Concat({{1}, Repeat(2, 50)});
  EXPECT_LE(RejectionsWhileRepairing(leader, {1}), 1);
}

TEST(PaperFlowTest, FastBacktrackingHandlesConflictsInManyTerms_5_3) {
  // Figure 7 (f) scaled up: each conflicting follower term costs at most one round trip.
  std::vector<uint64_t> leader = Concat({{1, 1, 1}, Repeat(4, 5), Repeat(5, 5), Repeat(6, 5)});
  std::vector<uint64_t> follower = Concat({{1, 1, 1}, Repeat(2, 15), Repeat(3, 15)});
  EXPECT_LE(RejectionsWhileRepairing(leader, follower), 3);
}

TEST(PaperFlowTest, RejectionCarriesHintAboutFollowerLog_5_3) {
  Cluster c;
  NodeSetup setup;
  setup.voters = {1, 2, 3};
  setup.log_terms = {1, 1, 2, 2, 2};
  c.AddNode(1, setup);
  // The leader of term 5 believes the logs match at (8, 4).
  ASSERT_TRUE(c.Step(MakeAppend(2, 1, 5, 8, 4, {MakeEntry(9, 5)})).ok());
  auto resp = c.Pending(OfTypeTo(MSG_APPEND_RESPONSE, 2));
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_TRUE(resp[0].reject());
  EXPECT_LE(resp[0].reject_hint(), 5u) << "no further than the follower's last index";
  EXPECT_EQ(resp[0].reject_hint_term(), 2u) << "the term of the entry at the hint";
}

// A stable 3-node cluster led by node 1, every follower in replicate state.
void ElectAndSettle(Cluster& c) {
  ASSERT_TRUE(c.Campaign(1).ok());
  c.Stabilize();
  ASSERT_EQ(c.role(1), StateRole::kLeader);
}

TEST(PaperFlowTest, FollowerInProbeStateGetsOneAppendAtATime) {
  Cluster c;
  c.AddNodes(3);
  ASSERT_TRUE(c.Campaign(1).ok());
  // Deliver the vote exchange only; the new leader's first append to node 2 is its probe.
  while (c.DeliverFirst([](const raftpb::Message& m) { return m.msg_type() != MSG_APPEND; })) {
  }
  ASSERT_EQ(c.role(1), StateRole::kLeader);
  EXPECT_EQ(c.status(1).progress[2].state, ProgressState::kProbe);
  for (const char* d : {"a", "b", "c"}) ASSERT_TRUE(c.Propose(1, d).ok());
  EXPECT_EQ(c.Pending(OfTypeTo(MSG_APPEND, 2)).size(), 1u)
      << "no second append before the probe is answered";
  c.Stabilize();
  EXPECT_EQ(c.status(1).progress[2].state, ProgressState::kReplicate);
  EXPECT_EQ(c.status(1).progress[2].match, 4u);
}

TEST(PaperFlowTest, FollowerInReplicateStateGetsAtMostMaxInflightAppends) {
  ClusterOptions options;
  options.max_inflight_msgs = 3;
  Cluster c(options);
  c.AddNodes(3);
  ElectAndSettle(c);
  ASSERT_EQ(c.status(1).progress[2].state, ProgressState::kReplicate);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c.Propose(1, "p" + std::to_string(i)).ok());
  EXPECT_EQ(c.Pending(OfTypeTo(MSG_APPEND, 2)).size(), 3u) << "pipelined up to the window";
  // One acknowledgement frees one slot.
  ASSERT_TRUE(c.DeliverFirst(OfTypeTo(MSG_APPEND, 2)));
  ASSERT_TRUE(c.DeliverFirst(OfTypeFrom(MSG_APPEND_RESPONSE, 2)));
  EXPECT_EQ(c.Pending(OfTypeTo(MSG_APPEND, 2)).size(), 3u);
  c.Stabilize();
  EXPECT_EQ(c.AppliedData(1).size(), 10u);
}

TEST(PaperFlowTest, LeaderRetriesAfterLosingAFullWindowOfAppends_5_3) {
  // §5.3: "the leader retries AppendEntries RPCs indefinitely". Appends lost while the window
  // is full get no answer that would free it; the heartbeat exchange must unblock it.
  ClusterOptions options;
  options.max_inflight_msgs = 2;
  Cluster c(options);
  c.AddNodes(3);
  ElectAndSettle(c);
  for (const char* d : {"a", "b", "c"}) ASSERT_TRUE(c.Propose(1, d).ok());
  EXPECT_EQ(c.Drop(OfTypeTo(MSG_APPEND, 3)), 2) << "the window of two is sent, then lost";
  c.Stabilize();
  for (int i = 0; i < 10; ++i) {
    c.Tick(1);
    c.Stabilize();
  }
  EXPECT_EQ(c.LogTerms(3), c.LogTerms(1));
  EXPECT_EQ(c.AppliedData(3), (std::vector<std::string>{"a", "b", "c"}));
}

uint64_t EntriesBytes(const raftpb::Message& m) {
  uint64_t bytes = 0;
  for (const auto& e : m.entries()) bytes += e.ByteSizeLong();
  return bytes;
}

TEST(PaperFlowTest, AppendRespectsByteLimitPerMessage) {
  ClusterOptions options;
  options.max_size_per_msg_bytes = 300;
  Cluster c(options);
  c.AddNodes(3);
  ElectAndSettle(c);
  c.Isolate(2);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c.Propose(1, std::string(120, 'a' + i)).ok());
  c.Stabilize();
  c.Heal();
  int appends = 0;
  int multi = 0;
  c.SetDeliverObserver([&](const raftpb::Message& m) {
    if (m.msg_type() != MSG_APPEND || m.to() != 2 || m.entries_size() == 0) return;
    ++appends;
    if (m.entries_size() > 1) ++multi;
    EXPECT_LE(EntriesBytes(m), 300u) << DescribeMessage(m);
  });
  c.Tick(1);
  c.Stabilize();
  EXPECT_EQ(c.LogTerms(2).size(), 11u);
  EXPECT_GE(appends, 5) << "ten 120-byte entries do not fit in fewer 300-byte messages";
  EXPECT_GT(multi, 0) << "entries are batched up to the limit";
}

TEST(PaperFlowTest, SingleEntryLargerThanByteLimitIsStillSent) {
  ClusterOptions options;
  options.max_size_per_msg_bytes = 100;
  Cluster c(options);
  c.AddNodes(3);
  ElectAndSettle(c);
  ASSERT_TRUE(c.Propose(1, std::string(1000, 'x')).ok());
  auto to2 = c.Pending(OfTypeTo(MSG_APPEND, 2));
  ASSERT_EQ(to2.size(), 1u);
  EXPECT_EQ(to2[0].entries_size(), 1);
  c.Stabilize();
  EXPECT_EQ(c.AppliedData(1), (std::vector<std::string>{std::string(1000, 'x')}));
}

TEST(PaperFlowTest, LeaderTracksMatchAndNextPerFollower) {
  Cluster c;
  c.AddNodes(3);
  ElectAndSettle(c);
  c.Isolate(3);
  ASSERT_TRUE(c.Propose(1, "a").ok());
  c.Stabilize();
  Status st = c.status(1);
  EXPECT_EQ(st.progress[2].match, 2u);
  EXPECT_EQ(st.progress[3].match, 1u);
  for (const auto& [id, pr] : st.progress) {
    EXPECT_LT(pr.match, pr.next) << "invariant match < next, node " << id;
  }
}

}  // namespace
}  // namespace raftkv::raft::testing
