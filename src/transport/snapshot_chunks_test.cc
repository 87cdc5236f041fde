#include "transport/snapshot_chunks.h"

#include <gtest/gtest.h>

namespace raftkv::transport {
namespace {

raftpb::Message SnapshotMessage(std::string data) {
  raftpb::Message m;
  m.set_msg_type(raftpb::MSG_SNAPSHOT);
  m.set_from(1);
  m.set_to(2);
  m.set_term(7);
  m.mutable_snapshot()->mutable_metadata()->set_index(42);
  m.mutable_snapshot()->mutable_metadata()->set_term(6);
  m.mutable_snapshot()->set_data(std::move(data));
  return m;
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 31 + 7);
  return s;
}

TEST(SnapshotChunksTest, SplitsDataIntoBoundedChunksWithTheHeaderFirst) {
  raftpb::Message m = SnapshotMessage(Pattern(2500));
  std::vector<peerpb::SnapshotChunk> chunks = SplitSnapshot(m, 99, 1000);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_TRUE(chunks[0].has_message());
  EXPECT_TRUE(chunks[0].message().snapshot().data().empty());
  EXPECT_FALSE(chunks[1].has_message());
  EXPECT_EQ(chunks[2].data().size(), 500u);
  EXPECT_TRUE(chunks[2].last());
  for (const auto& c : chunks) EXPECT_EQ(c.cluster_id(), 99u);
}

TEST(SnapshotChunksTest, EmptyDataStillMakesOneChunk) {
  std::vector<peerpb::SnapshotChunk> chunks = SplitSnapshot(SnapshotMessage(""), 1, 1000);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_TRUE(chunks[0].last());
}

TEST(SnapshotChunksTest, ReassemblesTheOriginalMessage) {
  raftpb::Message m = SnapshotMessage(Pattern(10000));
  SnapshotAssembler assembler;
  for (auto& chunk : SplitSnapshot(m, 1, 3000)) ASSERT_TRUE(assembler.Add(chunk).ok());
  ASSERT_TRUE(assembler.complete());
  EXPECT_EQ(assembler.from(), 1u);
  raftpb::Message out = assembler.TakeMessage();
  EXPECT_EQ(out.SerializeAsString(), m.SerializeAsString());
}

TEST(SnapshotChunksTest, RefusesCorruptedData) {
  std::vector<peerpb::SnapshotChunk> chunks =
      SplitSnapshot(SnapshotMessage(Pattern(5000)), 1, 2000);
  (*chunks[1].mutable_data())[10] ^= 0x01;
  SnapshotAssembler assembler;
  absl::Status last;
  for (auto& chunk : chunks) last = assembler.Add(chunk);
  EXPECT_EQ(last.code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(assembler.complete());
}

TEST(SnapshotChunksTest, RefusesAMissingChunk) {
  std::vector<peerpb::SnapshotChunk> chunks =
      SplitSnapshot(SnapshotMessage(Pattern(5000)), 1, 2000);
  SnapshotAssembler assembler;
  ASSERT_TRUE(assembler.Add(chunks[0]).ok());
  EXPECT_EQ(assembler.Add(chunks[2]).code(), absl::StatusCode::kInvalidArgument);
}

// Peer traffic is not authenticated yet, so the size a header announces is not trusted: a
// forged header must neither reserve that memory nor be accepted beyond the configured limit.
TEST(SnapshotChunksTest, RefusesAnAnnouncedSizeAboveTheLimitWithoutReservingIt) {
  std::vector<peerpb::SnapshotChunk> chunks = SplitSnapshot(SnapshotMessage(Pattern(10)), 1, 100);
  chunks[0].set_total_size_bytes(uint64_t{1} << 62);
  SnapshotAssembler assembler(/*max_size_bytes=*/1 << 20);
  absl::Status s = assembler.Add(chunks[0]);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(),
            "snapshot of 4611686018427387904 bytes exceeds this member's limit of 1048576 bytes");
  EXPECT_FALSE(assembler.complete());
}

TEST(SnapshotChunksTest, AcceptsASnapshotExactlyAtTheLimit) {
  raftpb::Message m = SnapshotMessage(Pattern(4096));
  SnapshotAssembler assembler(/*max_size_bytes=*/4096);
  for (auto& chunk : SplitSnapshot(m, 1, 1000)) ASSERT_TRUE(assembler.Add(chunk).ok());
  EXPECT_TRUE(assembler.complete());
}

// A header may announce a large (allowed) size and then send nothing: memory must follow the
// data that arrives, not the announcement.
TEST(SnapshotChunksTest, MemoryFollowsTheDataReceivedNotTheAnnouncedSize) {
  std::vector<peerpb::SnapshotChunk> chunks =
      SplitSnapshot(SnapshotMessage(Pattern(300)), 1, 100);
  ASSERT_FALSE(chunks[0].last());
  chunks[0].set_total_size_bytes(uint64_t{4} << 30);
  SnapshotAssembler assembler(/*max_size_bytes=*/uint64_t{8} << 30);
  ASSERT_TRUE(assembler.Add(chunks[0]).ok());
  EXPECT_LE(assembler.reserved_bytes(), SnapshotAssembler::kMaxUpfrontReserveBytes);
}

TEST(SnapshotChunksTest, RefusesAStreamWithoutItsHeader) {
  std::vector<peerpb::SnapshotChunk> chunks =
      SplitSnapshot(SnapshotMessage(Pattern(5000)), 1, 2000);
  SnapshotAssembler assembler;
  EXPECT_EQ(assembler.Add(chunks[1]).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace raftkv::transport
