// Alarms in the store (etcd's AlarmRequest as replicated state): raising, listing and disarming
// them, NOSPACE refusing every write that needs space with etcd's error while deletes, reads,
// compaction and revokes still work, and snapshots carrying the alarms.
#include <string>
#include <vector>

#include "base/crc32c.h"
#include "gtest/gtest.h"
#include "kv/errors.h"
#include "kv/store_test_util.h"

namespace raftkv::kv {
namespace {

using etcdserverpb::AlarmRequest;
using testing::CompactReq;
using testing::DelOp;
using testing::PutOp;
using testing::PutReq;
using testing::RangeReq;
using testing::StoreDriver;
using testing::TxnOp;
using testing::Wrap;

constexpr uint64_t kMemberA = 0x8e9dcaf1c3b2a110;
constexpr uint64_t kMemberB = 0x2a;

kvpb::Request AlarmReq(AlarmRequest::AlarmAction action, uint64_t member,
                       etcdserverpb::AlarmType type) {
  kvpb::Request request;
  request.mutable_alarm()->set_action(action);
  request.mutable_alarm()->set_memberid(member);
  request.mutable_alarm()->set_alarm(type);
  return request;
}

etcdserverpb::AlarmResponse MustAlarm(StoreDriver& d, AlarmRequest::AlarmAction action,
                                      uint64_t member, etcdserverpb::AlarmType type) {
  auto response = d.Apply(AlarmReq(action, member, type));
  EXPECT_TRUE(response.ok()) << response.status();
  return response.ok() ? response->alarm() : etcdserverpb::AlarmResponse();
}

// "member/TYPE" for each alarm, in order, to compare lists at a glance.
std::vector<std::string> Described(const etcdserverpb::AlarmResponse& response) {
  std::vector<std::string> out;
  for (const auto& m : response.alarms()) {
    out.push_back(std::to_string(m.memberid()) + "/" + etcdserverpb::AlarmType_Name(m.alarm()));
  }
  return out;
}

void ExpectNoSpace(const absl::StatusOr<kvpb::Response>& response) {
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(response.status().message(), "etcdserver: mvcc: database space exceeded");
}

TEST(StoreAlarm, NoAlarmIsRaisedAtFirst) {
  StoreDriver d;
  EXPECT_FALSE(d.store().space_exceeded());
  EXPECT_TRUE(Described(MustAlarm(d, AlarmRequest::GET, 0, etcdserverpb::NONE)).empty());
}

TEST(StoreAlarm, ActivateRaisesTheAlarmForTheMemberAndGetListsIt) {
  StoreDriver d;
  d.Put("a", "1");
  const auto raised = MustAlarm(d, AlarmRequest::ACTIVATE, kMemberA, etcdserverpb::NOSPACE);
  const std::string a_nospace = std::to_string(kMemberA) + "/NOSPACE";
  EXPECT_EQ(Described(raised), std::vector<std::string>{a_nospace});
  EXPECT_EQ(raised.header().revision(), 2);
  EXPECT_TRUE(d.store().space_exceeded());
  EXPECT_TRUE(d.store().HasAlarm(kMemberA, etcdserverpb::NOSPACE));
  EXPECT_EQ(Described(MustAlarm(d, AlarmRequest::GET, 0, etcdserverpb::NONE)),
            std::vector<std::string>{a_nospace});
  // Raising an alarm is not a write to the keys.
  EXPECT_EQ(d.store().revision(), 2);
}

TEST(StoreAlarm, RaisingTheSameAlarmTwiceKeepsOneAndAnswersIt) {
  StoreDriver d;
  MustAlarm(d, AlarmRequest::ACTIVATE, kMemberA, etcdserverpb::NOSPACE);
  const auto again = MustAlarm(d, AlarmRequest::ACTIVATE, kMemberA, etcdserverpb::NOSPACE);
  EXPECT_EQ(again.alarms_size(), 1);
  EXPECT_EQ(MustAlarm(d, AlarmRequest::GET, 0, etcdserverpb::NONE).alarms_size(), 1);
}

TEST(StoreAlarm, GetListsByTypeAndIgnoresTheMemberId) {
  StoreDriver d;
  MustAlarm(d, AlarmRequest::ACTIVATE, kMemberA, etcdserverpb::NOSPACE);
  MustAlarm(d, AlarmRequest::ACTIVATE, kMemberB, etcdserverpb::NOSPACE);
  const auto listed = MustAlarm(d, AlarmRequest::GET, kMemberA, etcdserverpb::NOSPACE);
  EXPECT_EQ(Described(listed), (std::vector<std::string>{std::to_string(kMemberB) + "/NOSPACE",
                                                         std::to_string(kMemberA) + "/NOSPACE"}));
  EXPECT_TRUE(Described(MustAlarm(d, AlarmRequest::GET, 0, etcdserverpb::CORRUPT)).empty());
}

TEST(StoreAlarm, UnderNospaceAPutIsRefusedWithEtcdsErrorAndChangesNothing) {
  StoreDriver d;
  d.Put("a", "1");
  MustAlarm(d, AlarmRequest::ACTIVATE, kMemberA, etcdserverpb::NOSPACE);
  const std::string before = d.store().Snapshot();
  ExpectNoSpace(d.Apply(Wrap(PutReq("b", "2"))));
  EXPECT_EQ(d.store().revision(), 2);
  EXPECT_TRUE(d.Get(RangeReq("b")).kvs().empty());
  // Only the applied index moved.
  Store replay;
  ASSERT_TRUE(replay.Restore(before).ok());
  replay.MarkApplied(d.store().applied_index());
  EXPECT_EQ(replay.Snapshot(), d.store().Snapshot());
}

TEST(StoreAlarm, UnderNospaceATxnWithAPutOnEitherBranchIsRefused) {
  StoreDriver d;
  MustAlarm(d, AlarmRequest::ACTIVATE, kMemberA, etcdserverpb::NOSPACE);
  etcdserverpb::TxnRequest put_on_failure;
  *put_on_failure.add_success() = DelOp("a");
  *put_on_failure.add_failure() = PutOp("a", "1");
  ExpectNoSpace(d.Apply(Wrap(put_on_failure)));

  etcdserverpb::TxnRequest nested;
  etcdserverpb::TxnRequest inner;
  *inner.add_success() = PutOp("b", "2");
  *nested.add_success() = TxnOp(inner);
  ExpectNoSpace(d.Apply(Wrap(nested)));
}

TEST(StoreAlarm, UnderNospaceALeaseGrantIsRefused) {
  StoreDriver d;
  MustAlarm(d, AlarmRequest::ACTIVATE, kMemberA, etcdserverpb::NOSPACE);
  kvpb::Request grant;
  grant.mutable_lease_grant()->set_id(7);
  grant.mutable_lease_grant()->set_ttl(30);
  ExpectNoSpace(d.Apply(grant));
  EXPECT_EQ(d.store().lease_count(), 0u);
}

TEST(StoreAlarm, UnderNospaceDeletesReadsTxnsWithoutPutsCompactionAndRevokesStillWork) {
  StoreDriver d;
  d.Put("a", "1");
  d.Put("b", "2");
  kvpb::Request grant;
  grant.mutable_lease_grant()->set_id(7);
  grant.mutable_lease_grant()->set_ttl(30);
  ASSERT_TRUE(d.Apply(grant).ok());
  MustAlarm(d, AlarmRequest::ACTIVATE, kMemberA, etcdserverpb::NOSPACE);

  EXPECT_EQ(d.GetOne("a").value(), "1");
  EXPECT_EQ(d.Delete("a").deleted(), 1);
  etcdserverpb::TxnRequest delete_only;
  *delete_only.add_success() = DelOp("b");
  EXPECT_TRUE(d.Txn(delete_only).succeeded());
  EXPECT_EQ(d.store().revision(), 5);
  ASSERT_TRUE(d.Apply(CompactReq(4)).ok());
  EXPECT_EQ(d.store().compact_revision(), 4);
  kvpb::Request revoke;
  revoke.mutable_lease_revoke()->set_id(7);
  EXPECT_TRUE(d.Apply(revoke).ok());
}

TEST(StoreAlarm, CompactionShrinksTheSizeWhileNospaceIsRaised) {
  StoreDriver d;
  for (int i = 0; i < 10; ++i) d.Put("k", std::string(100, 'x'));
  MustAlarm(d, AlarmRequest::ACTIVATE, kMemberA, etcdserverpb::NOSPACE);
  const int64_t before = d.store().size_bytes();
  ASSERT_TRUE(d.Apply(CompactReq(d.store().revision())).ok());
  EXPECT_LT(d.store().size_bytes(), before / 5);
}

TEST(StoreAlarm, DisarmingLetsWritesApplyAgain) {
  StoreDriver d;
  MustAlarm(d, AlarmRequest::ACTIVATE, kMemberA, etcdserverpb::NOSPACE);
  const auto disarmed = MustAlarm(d, AlarmRequest::DEACTIVATE, kMemberA, etcdserverpb::NOSPACE);
  EXPECT_EQ(Described(disarmed), std::vector<std::string>{std::to_string(kMemberA) + "/NOSPACE"});
  EXPECT_FALSE(d.store().space_exceeded());
  EXPECT_TRUE(Described(MustAlarm(d, AlarmRequest::GET, 0, etcdserverpb::NONE)).empty());
  EXPECT_EQ(d.Put("b", "2").header().revision(), 2);
}

TEST(StoreAlarm, DisarmingAnAlarmThatIsNotRaisedAnswersNoAlarm) {
  StoreDriver d;
  MustAlarm(d, AlarmRequest::ACTIVATE, kMemberA, etcdserverpb::NOSPACE);
  EXPECT_EQ(MustAlarm(d, AlarmRequest::DEACTIVATE, kMemberB, etcdserverpb::NOSPACE).alarms_size(),
            0);
  EXPECT_TRUE(d.store().space_exceeded());
}

TEST(StoreAlarm, EveryMembersNospaceMustBeDisarmedBeforeWritesApply) {
  StoreDriver d;
  MustAlarm(d, AlarmRequest::ACTIVATE, kMemberA, etcdserverpb::NOSPACE);
  MustAlarm(d, AlarmRequest::ACTIVATE, kMemberB, etcdserverpb::NOSPACE);
  MustAlarm(d, AlarmRequest::DEACTIVATE, kMemberA, etcdserverpb::NOSPACE);
  ExpectNoSpace(d.Apply(Wrap(PutReq("a", "1"))));
  MustAlarm(d, AlarmRequest::DEACTIVATE, kMemberB, etcdserverpb::NOSPACE);
  EXPECT_TRUE(d.Apply(Wrap(PutReq("a", "1"))).ok());
}

TEST(StoreAlarm, OnlyNospaceCanBeRaised) {
  StoreDriver d;
  for (etcdserverpb::AlarmType type : {etcdserverpb::CORRUPT, etcdserverpb::NONE}) {
    auto response = d.Apply(AlarmReq(AlarmRequest::ACTIVATE, kMemberA, type));
    ASSERT_FALSE(response.ok()) << etcdserverpb::AlarmType_Name(type);
    EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
  }
  auto unknown_action =
      d.Apply(AlarmReq(static_cast<AlarmRequest::AlarmAction>(9), kMemberA, etcdserverpb::NOSPACE));
  EXPECT_EQ(unknown_action.status().code(), absl::StatusCode::kInvalidArgument);
  auto unknown_type =
      d.Apply(AlarmReq(AlarmRequest::GET, kMemberA, static_cast<etcdserverpb::AlarmType>(17)));
  EXPECT_EQ(unknown_type.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(d.store().Alarms().empty());
}

TEST(StoreAlarm, ASnapshotCarriesTheAlarms) {
  StoreDriver d;
  d.Put("a", "1");
  MustAlarm(d, AlarmRequest::ACTIVATE, kMemberB, etcdserverpb::NOSPACE);
  MustAlarm(d, AlarmRequest::ACTIVATE, kMemberA, etcdserverpb::NOSPACE);
  Store restored;
  ASSERT_TRUE(restored.Restore(d.store().Snapshot()).ok());
  EXPECT_EQ(restored.Snapshot(), d.store().Snapshot());
  EXPECT_TRUE(restored.space_exceeded());
  EXPECT_EQ(restored.Alarms().size(), 2u);
  ExpectNoSpace(restored.Apply(Wrap(PutReq("b", "2")), restored.applied_index() + 1));
}

// Rewrites the snapshot's format version and payload, with a fresh checksum.
std::string Reframed(uint32_t format, const std::string& payload) {
  std::string out = "RKVS";
  auto put = [&out](uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
  };
  put(format, 4);
  put(payload.size(), 8);
  out += payload;
  put(base::crc32c::Value(payload), 4);
  return out;
}

// The payload of a snapshot of a store without client sessions, in format 3: without the
// session part (an i64 log clock and a u64 session count) that format 4 added.
std::string PayloadOf(const std::string& snapshot) {
  return snapshot.substr(16, snapshot.size() - 16 - 4 - 16);
}

TEST(StoreAlarm, VersionTwoSnapshotsRestoreWithoutAlarms) {
  StoreDriver d;
  d.Put("a", "1");
  std::string payload = PayloadOf(d.store().Snapshot());
  payload.resize(payload.size() - 8);  // the u64 alarm count, 0
  Store restored;
  ASSERT_TRUE(restored.Restore(Reframed(2, payload)).ok());
  EXPECT_EQ(restored.Snapshot(), d.store().Snapshot());
  EXPECT_FALSE(restored.space_exceeded());
}

TEST(StoreAlarm, ASnapshotWithAnImpossibleAlarmIsRefused) {
  StoreDriver d;
  MustAlarm(d, AlarmRequest::ACTIVATE, kMemberA, etcdserverpb::NOSPACE);
  std::string payload = PayloadOf(d.store().Snapshot());
  // The last alarm's u32 type becomes NONE.
  payload.replace(payload.size() - 4, 4, std::string(4, '\0'));
  Store restored;
  const absl::Status status = restored.Restore(Reframed(3, payload));
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(status.message().find("alarm"), std::string::npos) << status;
  EXPECT_TRUE(restored.Alarms().empty());
}

}  // namespace
}  // namespace raftkv::kv
