// Property tests of the quorum maths against a deliberately naive second implementation, plus
// a few hand-written cases that pin the semantics at the edges.
#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "base/rand.h"
#include "gtest/gtest.h"
#include "raft/quorum/joint.h"
#include "raft/quorum/majority.h"

namespace raftkv::raft::quorum {
namespace {

using AckMap = std::map<uint64_t, uint64_t>;

// ---- The naive reference ----------------------------------------------------------------
// Written from the definition ("more than half of the voters"), by brute force, sharing no
// code with the real implementation.

bool NaiveMajorityHas(const std::set<uint64_t>& voters, const std::set<uint64_t>& agreeing) {
  size_t n = 0;
  for (uint64_t id : voters) n += agreeing.count(id);
  return 2 * n > voters.size();
}

// An index is committed when, in every non-empty half, more than half of the voters acked at
// least that index. The answer is the largest such index among 0 and the acked values.
uint64_t NaiveCommitted(const std::vector<std::set<uint64_t>>& halves,
                        const std::map<uint64_t, uint64_t>& acked) {
  bool any = false;
  for (const auto& h : halves) any = any || !h.empty();
  if (!any) return kUnboundedIndex;
  std::set<uint64_t> candidates = {0};
  for (const auto& [id, idx] : acked) candidates.insert(idx);
  uint64_t best = 0;
  for (uint64_t idx : candidates) {
    std::set<uint64_t> reached;
    for (const auto& [id, a] : acked) {
      if (a >= idx) reached.insert(id);
    }
    bool ok = true;
    for (const auto& h : halves) {
      if (!h.empty() && !NaiveMajorityHas(h, reached)) ok = false;
    }
    if (ok) best = std::max(best, idx);
  }
  return best;
}

// Enumerates every way the missing voters could still answer: won if the election is won
// whatever they say, lost if it is lost whatever they say, pending otherwise.
VoteResult NaiveVoteResult(const std::vector<std::set<uint64_t>>& halves, const VoteMap& votes) {
  std::set<uint64_t> all;
  for (const auto& h : halves) all.insert(h.begin(), h.end());
  std::vector<uint64_t> missing;
  std::set<uint64_t> yes;
  for (uint64_t id : all) {
    auto it = votes.find(id);
    if (it == votes.end()) {
      missing.push_back(id);
    } else if (it->second) {
      yes.insert(id);
    }
  }
  bool some_win = false;
  bool some_loss = false;
  for (uint64_t mask = 0; mask < (uint64_t{1} << missing.size()); ++mask) {
    std::set<uint64_t> y = yes;
    for (size_t i = 0; i < missing.size(); ++i) {
      if (mask & (uint64_t{1} << i)) y.insert(missing[i]);
    }
    bool win = true;
    for (const auto& h : halves) {
      if (!h.empty() && !NaiveMajorityHas(h, y)) win = false;
    }
    (win ? some_win : some_loss) = true;
  }
  if (!some_loss) return VoteResult::kWon;
  if (!some_win) return VoteResult::kLost;
  return VoteResult::kPending;
}

// ---- Random case generation -------------------------------------------------------------

std::set<uint64_t> RandomVoters(base::Rand& rand, size_t max_size, uint64_t id_space) {
  std::set<uint64_t> ids;
  const size_t n = rand.Uniform(max_size + 1);
  while (ids.size() < n) ids.insert(1 + rand.Uniform(id_space));
  return ids;
}

std::map<uint64_t, uint64_t> RandomAcks(base::Rand& rand, const std::set<uint64_t>& ids) {
  std::map<uint64_t, uint64_t> acked;
  for (uint64_t id : ids) {
    // Some voters have not acknowledged anything (absent), some acked the same index.
    if (rand.Bernoulli(0.2)) continue;
    acked[id] = rand.Uniform(10);
  }
  return acked;
}

VoteMap RandomVotes(base::Rand& rand, const std::set<uint64_t>& ids) {
  VoteMap votes;
  for (uint64_t id : ids) {
    switch (rand.Uniform(3)) {
      case 0:
        break;  // no answer yet
      case 1:
        votes[id] = true;
        break;
      default:
        votes[id] = false;
        break;
    }
  }
  // Votes from nodes outside the configuration must not count.
  if (rand.Bernoulli(0.3)) votes[100 + rand.Uniform(5)] = true;
  return votes;
}

constexpr int kCases = 5000;

TEST(QuorumPropertyTest, MajorityCommittedIndexMatchesNaive) {
  base::Rand rand(1);
  for (int i = 0; i < kCases; ++i) {
    const std::set<uint64_t> voters = RandomVoters(rand, 9, 12);
    const auto acked = RandomAcks(rand, voters);
    const MajorityConfig c(voters);
    ASSERT_EQ(c.CommittedIndex(MapAckIndexer(acked)), NaiveCommitted({voters}, acked))
        << "case " << i << " voters " << c.String();
  }
}

TEST(QuorumPropertyTest, JointCommittedIndexMatchesNaive) {
  base::Rand rand(2);
  for (int i = 0; i < kCases; ++i) {
    // Overlapping id spaces so the halves share some voters, as real joint configs do.
    const std::set<uint64_t> in = RandomVoters(rand, 7, 9);
    const std::set<uint64_t> out = RandomVoters(rand, 7, 9);
    std::set<uint64_t> all = in;
    all.insert(out.begin(), out.end());
    const auto acked = RandomAcks(rand, all);
    const JointConfig c{MajorityConfig(in), MajorityConfig(out)};
    ASSERT_EQ(c.CommittedIndex(MapAckIndexer(acked)), NaiveCommitted({in, out}, acked))
        << "case " << i << " config " << c.String();
  }
}

TEST(QuorumPropertyTest, MajorityVoteResultMatchesNaive) {
  base::Rand rand(3);
  for (int i = 0; i < kCases; ++i) {
    const std::set<uint64_t> voters = RandomVoters(rand, 9, 12);
    const VoteMap votes = RandomVotes(rand, voters);
    const MajorityConfig c(voters);
    ASSERT_EQ(c.GetVoteResult(votes), NaiveVoteResult({voters}, votes))
        << "case " << i << " voters " << c.String();
  }
}

TEST(QuorumPropertyTest, JointVoteResultMatchesNaive) {
  base::Rand rand(4);
  for (int i = 0; i < kCases; ++i) {
    const std::set<uint64_t> in = RandomVoters(rand, 7, 9);
    const std::set<uint64_t> out = RandomVoters(rand, 7, 9);
    std::set<uint64_t> all = in;
    all.insert(out.begin(), out.end());
    const VoteMap votes = RandomVotes(rand, all);
    const JointConfig c{MajorityConfig(in), MajorityConfig(out)};
    ASSERT_EQ(c.GetVoteResult(votes), NaiveVoteResult({in, out}, votes))
        << "case " << i << " config " << c.String();
  }
}

// ---- Pinned edge cases --------------------------------------------------------------------

TEST(MajorityConfigTest, EmptyConfigDoesNotConstrainCommit) {
  EXPECT_EQ(MajorityConfig().CommittedIndex(MapAckIndexer(AckMap{})), kUnboundedIndex);
}

TEST(MajorityConfigTest, EmptyConfigWinsEveryVote) {
  EXPECT_EQ(MajorityConfig().GetVoteResult({}), VoteResult::kWon);
}

TEST(MajorityConfigTest, CommittedIsTheMedianOfThreeAcks) {
  const MajorityConfig c({1, 2, 3});
  EXPECT_EQ(c.CommittedIndex(MapAckIndexer(AckMap{{1, 5}, {2, 9}, {3, 7}})), 7u);
}

TEST(MajorityConfigTest, MissingAckCountsAsZero) {
  const MajorityConfig c({1, 2, 3});
  EXPECT_EQ(c.CommittedIndex(MapAckIndexer(AckMap{{1, 5}})), 0u);
  EXPECT_EQ(c.CommittedIndex(MapAckIndexer(AckMap{{1, 5}, {2, 4}})), 4u);
}

TEST(MajorityConfigTest, EvenSizedConfigNeedsMoreThanHalf) {
  const MajorityConfig c({1, 2, 3, 4});
  EXPECT_EQ(c.CommittedIndex(MapAckIndexer(AckMap{{1, 9}, {2, 9}, {3, 1}, {4, 1}})), 1u);
  EXPECT_EQ(c.GetVoteResult({{1, true}, {2, true}, {3, false}, {4, false}}), VoteResult::kLost);
  EXPECT_EQ(c.GetVoteResult({{1, true}, {2, true}}), VoteResult::kPending);
}

TEST(JointConfigTest, CommitIsTheMinimumOfBothHalves) {
  const JointConfig c{MajorityConfig({1, 2, 3}), MajorityConfig({4, 5, 6})};
  const MapAckIndexer acked({{1, 9}, {2, 9}, {3, 9}, {4, 2}, {5, 3}, {6, 1}});
  EXPECT_EQ(c.CommittedIndex(acked), 2u);
}

TEST(JointConfigTest, VoteLostInEitherHalfLosesTheElection) {
  const JointConfig c{MajorityConfig({1, 2, 3}), MajorityConfig({3, 4, 5})};
  EXPECT_EQ(c.GetVoteResult({{1, true}, {2, true}, {4, false}, {5, false}}), VoteResult::kLost);
}

TEST(JointConfigTest, VoteWonInOneHalfOnlyIsPending) {
  const JointConfig c{MajorityConfig({1, 2, 3}), MajorityConfig({3, 4, 5})};
  EXPECT_EQ(c.GetVoteResult({{1, true}, {2, true}}), VoteResult::kPending);
  EXPECT_EQ(c.GetVoteResult({{1, true}, {2, true}, {4, true}, {5, true}}), VoteResult::kWon);
}

TEST(JointConfigTest, StringShowsBothHalvesWhileJoint) {
  EXPECT_EQ((JointConfig{MajorityConfig({1, 2}), MajorityConfig({2, 3})}).String(), "(1 2)&&(2 3)");
  EXPECT_EQ((JointConfig{MajorityConfig({1, 2}), MajorityConfig()}).String(), "(1 2)");
}

}  // namespace
}  // namespace raftkv::raft::quorum
