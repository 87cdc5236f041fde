#include "sim/kv_state_machine.h"

#include "gtest/gtest.h"

namespace raftkv::sim {
namespace {

Command Put(uint64_t client, uint64_t seq, std::string key, std::string value) {
  return Command{
      .kind = CommandKind::kPut, .client_id = client, .seq = seq, .key = key, .value = value};
}

Command Cas(uint64_t client, uint64_t seq, std::string key, std::optional<std::string> expected,
            std::string value) {
  return Command{.kind = CommandKind::kCas,
                 .client_id = client,
                 .seq = seq,
                 .key = key,
                 .value = value,
                 .expected = expected};
}

Command Get(uint64_t client, uint64_t seq, std::string key) {
  return Command{.kind = CommandKind::kGet, .client_id = client, .seq = seq, .key = key};
}

TEST(KvStateMachine, GetOfAbsentKeyReadsNothing) {
  KvStateMachine sm;
  EXPECT_EQ(sm.Apply(Get(1, 1, "k")).value, std::nullopt);
}

TEST(KvStateMachine, PutThenGetReadsTheValue) {
  KvStateMachine sm;
  sm.Apply(Put(1, 1, "k", "v1"));
  EXPECT_EQ(sm.Apply(Get(1, 2, "k")).value, "v1");
}

TEST(KvStateMachine, CasSwapsOnlyWhenTheExpectedValueHolds) {
  KvStateMachine sm;
  EXPECT_TRUE(sm.Apply(Cas(1, 1, "k", std::nullopt, "a")).swapped);
  EXPECT_FALSE(sm.Apply(Cas(1, 2, "k", "b", "c")).swapped);
  EXPECT_EQ(sm.Read("k"), "a");
  EXPECT_TRUE(sm.Apply(Cas(1, 3, "k", "a", "c")).swapped);
  EXPECT_EQ(sm.Read("k"), "c");
}

TEST(KvStateMachine, RetriedCommandTakesEffectOnce) {
  KvStateMachine sm;
  EXPECT_TRUE(sm.Apply(Cas(1, 1, "k", std::nullopt, "a")).swapped);
  sm.Apply(Put(2, 1, "k", "b"));
  // The retry of client 1's first command answers as the first time and changes nothing.
  EXPECT_TRUE(sm.Apply(Cas(1, 1, "k", std::nullopt, "a")).swapped);
  EXPECT_EQ(sm.Read("k"), "b");
}

TEST(KvStateMachine, SequenceZeroBypassesSessions) {
  KvStateMachine sm;
  sm.Apply(Put(9, 0, "k", "a"));
  sm.Apply(Put(9, 0, "k", "b"));
  EXPECT_EQ(sm.Read("k"), "b");
}

TEST(KvStateMachine, CommandsSurviveEncoding) {
  const Command c = Cas(7, 42, "key", std::nullopt, "new");
  auto decoded = DecodeCommand(EncodeCommand(c));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->client_id, 7u);
  EXPECT_EQ(decoded->seq, 42u);
  EXPECT_EQ(decoded->key, "key");
  EXPECT_EQ(decoded->expected, std::nullopt);
  EXPECT_EQ(decoded->value, "new");
  EXPECT_FALSE(DecodeCommand("nonsense").ok());
}

TEST(KvStateMachine, SnapshotRestoresDataAndSessions) {
  KvStateMachine a;
  a.Apply(Put(1, 1, "x", "1"));
  a.Apply(Cas(2, 5, "y", std::nullopt, "2"));
  KvStateMachine b;
  ASSERT_TRUE(b.Restore(a.Serialize()).ok());
  EXPECT_EQ(b.Digest(), a.Digest());
  EXPECT_EQ(b.Read("y"), "2");
  // The session came along: a retry of client 2's command is still recognised.
  b.Apply(Put(3, 1, "y", "3"));
  EXPECT_TRUE(b.Apply(Cas(2, 5, "y", std::nullopt, "2")).swapped);
  EXPECT_EQ(b.Read("y"), "3");
}

TEST(KvStateMachine, DigestDiffersWhenStateDiffers) {
  KvStateMachine a, b;
  a.Apply(Put(1, 1, "x", "1"));
  b.Apply(Put(1, 1, "x", "2"));
  EXPECT_NE(a.Digest(), b.Digest());
}

}  // namespace
}  // namespace raftkv::sim
