#include "transport/message_queue.h"

#include <gtest/gtest.h>

namespace raftkv::transport {
namespace {

raftpb::Message Append(uint64_t index, size_t payload_bytes = 0) {
  raftpb::Message m;
  m.set_msg_type(raftpb::MSG_APPEND);
  m.set_index(index);
  if (payload_bytes > 0) m.add_entries()->set_data(std::string(payload_bytes, 'x'));
  return m;
}

TEST(MessageQueueTest, RefusesMessagesBeyondItsCapacity) {
  MessageQueue queue(2);
  EXPECT_TRUE(queue.Push(Append(1)));
  EXPECT_TRUE(queue.Push(Append(2)));
  EXPECT_FALSE(queue.Push(Append(3)));
  EXPECT_EQ(queue.size(), 2u);
}

TEST(MessageQueueTest, PopsInOrderWithinTheByteBudget) {
  MessageQueue queue(10);
  for (uint64_t i = 1; i <= 3; ++i) ASSERT_TRUE(queue.Push(Append(i, 1000)));
  std::vector<raftpb::Message> batch = queue.PopBatch(2500, absl::ZeroDuration());
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].index(), 1u);
  EXPECT_EQ(batch[1].index(), 2u);
  batch = queue.PopBatch(2500, absl::ZeroDuration());
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0].index(), 3u);
}

TEST(MessageQueueTest, AMessageLargerThanTheBudgetStillGoesAlone) {
  MessageQueue queue(10);
  ASSERT_TRUE(queue.Push(Append(1, 5000)));
  ASSERT_TRUE(queue.Push(Append(2)));
  std::vector<raftpb::Message> batch = queue.PopBatch(100, absl::ZeroDuration());
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0].index(), 1u);
}

TEST(MessageQueueTest, PopTimesOutEmpty) {
  MessageQueue queue(10);
  EXPECT_TRUE(queue.PopBatch(100, absl::Milliseconds(1)).empty());
}

TEST(MessageQueueTest, CloseDropsEverythingAndRefusesMore) {
  MessageQueue queue(10);
  ASSERT_TRUE(queue.Push(Append(1)));
  queue.Close();
  EXPECT_TRUE(queue.PopBatch(100, absl::Seconds(10)).empty());
  EXPECT_FALSE(queue.Push(Append(2)));
}

TEST(MessageQueueTest, ClearReportsHowManyWereDropped) {
  MessageQueue queue(10);
  ASSERT_TRUE(queue.Push(Append(1)));
  ASSERT_TRUE(queue.Push(Append(2)));
  EXPECT_EQ(queue.Clear(), 2u);
  EXPECT_EQ(queue.size(), 0u);
}

}  // namespace
}  // namespace raftkv::transport
