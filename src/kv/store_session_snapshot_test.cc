// Client sessions in store snapshots (format 4): they survive a round trip and go on answering
// retries, and a snapshot written before sessions existed (format 3) still restores.
#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "kv/session.h"
#include "kv/store_test_util.h"

namespace raftkv::kv {
namespace {

using testing::PutReq;
using testing::StoreDriver;
using testing::Wrap;

constexpr int64_t kStart = 1'700'000'000'000;

kvpb::Request SessionPut(const std::string& key, const std::string& value, uint64_t client,
                         uint64_t sequence, int64_t time_ms) {
  kvpb::Request request = Wrap(PutReq(key, value));
  request.set_client_id(client);
  request.set_sequence(sequence);
  request.set_time_ms(time_ms);
  return request;
}

// Three clients; client 2 also got an error remembered.
void FillWithSessions(StoreDriver& d) {
  ASSERT_TRUE(d.Apply(SessionPut("a", "1", 1, 1, kStart)).ok());
  ASSERT_TRUE(d.Apply(SessionPut("b", "2", 2, 1, kStart + 10)).ok());
  kvpb::Request refused = Wrap(PutReq("missing", ""));
  refused.mutable_put()->set_ignore_value(true);
  refused.set_client_id(2);
  refused.set_sequence(2);
  refused.set_time_ms(kStart + 20);
  ASSERT_FALSE(d.Apply(refused).ok());
  ASSERT_TRUE(d.Apply(SessionPut("a", "3", 3, 1, kStart + 30)).ok());
  d.Put("plain", "no session");
}

TEST(StoreSessionSnapshot, SessionsAndTheLogClockSurviveARoundTrip) {
  StoreDriver original;
  FillWithSessions(original);
  Store restored;
  ASSERT_TRUE(restored.Restore(original.store().Snapshot()).ok());
  EXPECT_EQ(restored.session_count(), original.store().session_count());
  EXPECT_EQ(restored.session_bytes(), original.store().session_bytes());
  EXPECT_EQ(restored.log_clock_ms(), original.store().log_clock_ms());
  EXPECT_EQ(restored.size_bytes(), original.store().size_bytes());
  for (uint64_t client : {1, 2, 3, 4}) {
    EXPECT_EQ(restored.SessionSequence(client), original.store().SessionSequence(client))
        << "client " << client;
  }
  EXPECT_EQ(restored.Snapshot(), original.store().Snapshot());
}

TEST(StoreSessionSnapshot, ARestoredStoreAnswersRetriesAndRefusesStaleSequencesLikeTheOriginal) {
  StoreDriver original;
  FillWithSessions(original);
  Store restored;
  ASSERT_TRUE(restored.Restore(original.store().Snapshot()).ok());
  uint64_t index = original.store().applied_index();
  for (const kvpb::Request& request :
       {SessionPut("a", "1", 1, 1, kStart + 40),     // a retry of client 1's write
        SessionPut("b", "2", 2, 1, kStart + 50),     // client 2 has moved on: stale
        SessionPut("a", "9", 1, 2, kStart + 60)}) {  // client 1's next write
    ++index;
    const absl::StatusOr<kvpb::Response> want = original.store().Apply(request, index);
    const absl::StatusOr<kvpb::Response> got = restored.Apply(request, index);
    ASSERT_EQ(got.ok(), want.ok()) << request.ShortDebugString();
    if (want.ok()) {
      EXPECT_EQ(got->SerializeAsString(), want->SerializeAsString());
    } else {
      EXPECT_EQ(got.status(), want.status());
    }
  }
  EXPECT_EQ(restored.revision(), original.store().revision());
  EXPECT_EQ(restored.Snapshot(), original.store().Snapshot());
}

TEST(StoreSessionSnapshot, ARestoreReplacesTheSessionsOfTheStoreItRestoresInto) {
  StoreDriver source;
  ASSERT_TRUE(source.Apply(SessionPut("a", "1", 1, 1, kStart)).ok());
  StoreDriver target;
  ASSERT_TRUE(target.Apply(SessionPut("a", "1", 7, 1, kStart + 99)).ok());
  ASSERT_TRUE(target.store().Restore(source.store().Snapshot()).ok());
  EXPECT_EQ(target.store().session_count(), 1u);
  EXPECT_EQ(target.store().SessionSequence(7), std::nullopt);
  EXPECT_EQ(target.store().SessionSequence(1), 1u);
  EXPECT_EQ(target.store().log_clock_ms(), kStart);
}

// Written by the format-3 writer (before sessions): applied index 7, revision 6; lease 7 (TTL
// 60); a=1, b=2, a=3, delete b, c=leased on lease 7; member 1's NOSPACE alarm raised.
constexpr char kFormat3Snapshot[] =
    "524b5653030000002901000000000000060000000000000000000000000000000700000000000000030000000000"
    "000001000000610200000002000000000000000200000000000000010000000000000000000000000000000001"
    "000000310400000000000000020000000000000002000000000000000000000000000000000100000033010000"
    "006202000000030000000000000003000000000000000100000000000000000000000000000000010000003205"
    "000000000000000000000000000000000000000000000000000000000000000100000000010000006301000000"
    "060000000000000006000000000000000100000000000000070000000000000000060000006c6561736564010000"
    "000000000007000000000000003c0000000000000001000000000000000100000000000000010000004348923f";

TEST(StoreSessionSnapshot, AFormat3SnapshotRestoresAsAStoreWithoutSessions) {
  const std::string snapshot = absl::HexStringToBytes(kFormat3Snapshot);
  ASSERT_EQ(snapshot.substr(4, 1), std::string(1, '\3')) << "the fixture is not format 3";
  StoreDriver d;
  ASSERT_TRUE(d.Apply(SessionPut("x", "y", 5, 1, kStart)).ok());  // replaced by the restore
  absl::Status restored = d.store().Restore(snapshot);
  ASSERT_TRUE(restored.ok()) << restored;
  EXPECT_EQ(d.store().applied_index(), 7u);
  EXPECT_EQ(d.store().revision(), 6);
  EXPECT_EQ(d.GetOne("a").value(), "3");
  EXPECT_EQ(d.GetOne("c").lease(), 7);
  EXPECT_EQ(d.store().FindLease(7, /*with_keys=*/true)->keys, std::vector<std::string>{"c"});
  EXPECT_TRUE(d.store().HasAlarm(1, etcdserverpb::NOSPACE));
  EXPECT_EQ(d.store().session_count(), 0u);
  EXPECT_EQ(d.store().log_clock_ms(), 0);
  // a twice, b and its deletion, c, and the lease; no session.
  EXPECT_EQ(d.store().size_bytes(), 2 * VersionBytes(1, 1) + VersionBytes(1, 1) +
                                        VersionBytes(1, 0) + VersionBytes(1, 6) + 64);

  // It goes on as a store of today: sessions start, and the next snapshot is format 4. (A delete:
  // the NOSPACE alarm refuses puts.)
  kvpb::Request del = Wrap(testing::DelReq("a"));
  del.set_client_id(9);
  del.set_sequence(1);
  del.set_time_ms(kStart);
  ASSERT_TRUE(d.Apply(del).ok());
  EXPECT_EQ(d.store().SessionSequence(9), 1u);
  const std::string next = d.store().Snapshot();
  EXPECT_EQ(next.substr(4, 1), std::string(1, '\4'));
  Store again;
  ASSERT_TRUE(again.Restore(next).ok());
  EXPECT_EQ(again.Snapshot(), next);
}

}  // namespace
}  // namespace raftkv::kv
