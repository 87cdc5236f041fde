// Store snapshots: round trip, continuation after restore, and corruption detection.
#include <string>

#include "gtest/gtest.h"
#include "kv/store_test_util.h"

namespace raftkv::kv {
namespace {

using testing::RangeReq;
using testing::StoreDriver;

// A store with history, deletions, a compaction and a non-trivial applied index.
void Fill(StoreDriver& d) {
  for (int i = 0; i < 20; ++i) d.Put("key/" + std::to_string(i % 7), "value-" + std::to_string(i));
  d.Delete("key/3");
  d.Put(std::string("bin\0ary", 7), std::string("\xff\x00", 2));
  ASSERT_TRUE(d.Apply(testing::CompactReq(10)).ok());
  d.Delete("key/5");
  d.store().MarkApplied(d.store().applied_index() + 3);
}

TEST(StoreSnapshot, RestoreReproducesTheStoreExactly) {
  StoreDriver original;
  Fill(original);
  Store restored;
  ASSERT_TRUE(restored.Restore(original.store().Snapshot()).ok());
  EXPECT_EQ(restored.revision(), original.store().revision());
  EXPECT_EQ(restored.compact_revision(), original.store().compact_revision());
  EXPECT_EQ(restored.applied_index(), original.store().applied_index());
  EXPECT_EQ(restored.size_bytes(), original.store().size_bytes());
  EXPECT_EQ(restored.live_keys(), original.store().live_keys());
  EXPECT_EQ(restored.Snapshot(), original.store().Snapshot());
}

TEST(StoreSnapshot, RestoredHistoryAnswersPastReads) {
  StoreDriver original;
  Fill(original);
  Store restored;
  ASSERT_TRUE(restored.Restore(original.store().Snapshot()).ok());
  for (int64_t rev = 10; rev <= original.store().revision(); ++rev) {
    auto request = RangeReq("a", "z");
    request.set_revision(rev);
    EXPECT_EQ(restored.Range(request)->SerializeAsString(),
              original.store().Range(request)->SerializeAsString())
        << "at revision " << rev;
  }
}

TEST(StoreSnapshot, RestoredStoreContinuesLikeTheOriginal) {
  StoreDriver original;
  Fill(original);
  Store restored;
  ASSERT_TRUE(restored.Restore(original.store().Snapshot()).ok());
  const uint64_t next = original.store().applied_index() + 1;
  auto a = original.store().Apply(testing::Wrap(testing::PutReq("key/1", "after")), next);
  auto b = restored.Apply(testing::Wrap(testing::PutReq("key/1", "after")), next);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->SerializeAsString(), b->SerializeAsString());
  EXPECT_EQ(restored.Snapshot(), original.store().Snapshot());
}

TEST(StoreSnapshot, EmptyStoreRoundTrips) {
  Store empty;
  Store restored;
  ASSERT_TRUE(restored.Restore(empty.Snapshot()).ok());
  EXPECT_EQ(restored.revision(), 1);
  EXPECT_EQ(restored.applied_index(), 0u);
}

TEST(StoreSnapshot, EveryFlippedByteIsDetected) {
  StoreDriver original;
  Fill(original);
  const std::string snapshot = original.store().Snapshot();
  Store target;
  target.MarkApplied(1);
  for (size_t i = 0; i < snapshot.size(); i += 7) {
    std::string bad = snapshot;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    EXPECT_FALSE(target.Restore(bad).ok()) << "flip at byte " << i;
  }
  EXPECT_EQ(target.applied_index(), 1u);  // failed restores leave the store as it was
}

TEST(StoreSnapshot, TruncationIsDetected) {
  StoreDriver original;
  Fill(original);
  const std::string snapshot = original.store().Snapshot();
  Store target;
  for (size_t size : {size_t{0}, size_t{3}, size_t{20}, snapshot.size() / 2, snapshot.size() - 1}) {
    auto status = target.Restore(std::string_view(snapshot).substr(0, size));
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << "size " << size << ": " << status;
  }
}

TEST(StoreSnapshot, UnknownFormatVersionIsRefusedWithAReason) {
  Store store;
  std::string snapshot = store.Snapshot();
  snapshot[4] = 9;  // the format version's low byte
  auto status = Store().Restore(snapshot);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("format version 9"), std::string::npos) << status;
}

}  // namespace
}  // namespace raftkv::kv
