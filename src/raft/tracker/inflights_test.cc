#include "raft/tracker/inflights.h"

#include "gtest/gtest.h"

namespace raftkv::raft::tracker {
namespace {

TEST(InflightsTest, FullAfterCapacityMessages) {
  Inflights in(3);
  in.Add(1, 10);
  in.Add(2, 10);
  EXPECT_FALSE(in.Full());
  in.Add(3, 10);
  EXPECT_TRUE(in.Full());
  EXPECT_EQ(in.Count(), 3u);
}

TEST(InflightsTest, FreeLEFreesEveryMessageUpToTheAcknowledgedIndex) {
  Inflights in(10);
  for (uint64_t i = 1; i <= 5; ++i) in.Add(i * 2, 1);  // 2 4 6 8 10
  in.FreeLE(5);
  EXPECT_EQ(in.Count(), 3u);
  in.FreeLE(5);  // a repeated acknowledgement frees nothing more
  EXPECT_EQ(in.Count(), 3u);
  in.FreeLE(10);
  EXPECT_EQ(in.Count(), 0u);
  EXPECT_EQ(in.Bytes(), 0u);
}

TEST(InflightsTest, FreeingReopensAFullWindow) {
  Inflights in(2);
  in.Add(1, 1);
  in.Add(2, 1);
  ASSERT_TRUE(in.Full());
  in.FreeLE(1);
  EXPECT_FALSE(in.Full());
}

TEST(InflightsTest, RingWrapsAroundKeepingOrder) {
  Inflights in(4);
  uint64_t next = 1;
  // Many add/free cycles so the start of the ring moves through every slot.
  for (int round = 0; round < 20; ++round) {
    while (!in.Full()) in.Add(next++, 1);
    in.FreeLE(next - 3);  // keep the two newest
    ASSERT_EQ(in.Count(), 2u) << "round " << round;
  }
  in.FreeLE(next - 2);
  EXPECT_EQ(in.Count(), 1u);
}

TEST(InflightsTest, ByteLimitClosesTheWindow) {
  Inflights in(100, 25);
  in.Add(1, 10);
  in.Add(2, 10);
  EXPECT_FALSE(in.Full());
  in.Add(3, 10);
  EXPECT_TRUE(in.Full());
  EXPECT_EQ(in.Bytes(), 30u);
  in.FreeLE(1);
  EXPECT_FALSE(in.Full());
}

TEST(InflightsTest, ResetEmptiesTheWindow) {
  Inflights in(2);
  in.Add(1, 5);
  in.Add(2, 5);
  in.Reset();
  EXPECT_EQ(in.Count(), 0u);
  EXPECT_EQ(in.Bytes(), 0u);
  EXPECT_FALSE(in.Full());
}

}  // namespace
}  // namespace raftkv::raft::tracker
