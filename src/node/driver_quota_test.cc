// The space quota through the node driver (etcd's --quota-backend-bytes and NOSPACE alarm): a
// write that would pass a member's quota is refused with etcd's error and that member raises
// its alarm through the log; the replicated alarm makes every member refuse writes that need
// space, whatever its own quota, while deletes and compaction still apply; disarming it lets
// writes through again.
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kv/errors.h"
#include "node/driver.h"
#include "node/driver_test_util.h"

namespace raftkv::node {
namespace {

using testing::PutRequest;
using testing::TestCluster;

constexpr int kLongTimeout = 1000;
constexpr int64_t kQuota = 2000;

WriteResult WriteAndSettle(TestCluster& cluster, uint64_t via, kvpb::Request request) {
  std::optional<WriteResult> answer;
  cluster.driver(via).Write(std::move(request), kLongTimeout,
                            [&answer](WriteResult r) { answer = std::move(r); });
  cluster.Stabilize();
  EXPECT_TRUE(answer.has_value());
  return answer.value_or(absl::InternalError("no answer"));
}

bool IsNoSpace(const WriteResult& result) {
  return !result.ok() && result.status().code() == absl::StatusCode::kResourceExhausted &&
         result.status().message() == "etcdserver: mvcc: database space exceeded";
}

kvpb::Request AlarmRequest(etcdserverpb::AlarmRequest::AlarmAction action, uint64_t member) {
  kvpb::Request request;
  request.mutable_alarm()->set_action(action);
  request.mutable_alarm()->set_memberid(member);
  request.mutable_alarm()->set_alarm(etcdserverpb::NOSPACE);
  return request;
}

// Puts 100-byte values through `via` until one is refused; returns how many were accepted.
int FillUntilRefused(TestCluster& cluster, uint64_t via) {
  for (int i = 0; i < 1000; ++i) {
    WriteResult result =
        WriteAndSettle(cluster, via, PutRequest("k" + std::to_string(i), std::string(100, 'v')));
    if (IsNoSpace(result)) return i;
    EXPECT_TRUE(result.ok()) << result.status();
  }
  ADD_FAILURE() << "no write was refused";
  return -1;
}

TEST(DriverQuota, AWriteThatWouldPassTheQuotaIsRefusedAndTheAlarmReachesEveryMember) {
  TestCluster cluster(3, [](DriverOptions& o) { o.quota_bytes = kQuota; });
  ASSERT_TRUE(cluster.Elect(1));
  const int accepted = FillUntilRefused(cluster, 1);
  ASSERT_GT(accepted, 0);
  // The refusal left the store just below the quota: the next write's cost did not fit.
  EXPECT_LT(cluster.store(1).size_bytes(), kQuota);
  EXPECT_EQ(cluster.store(1).revision(), 1 + accepted);
  for (uint64_t id : cluster.ids()) {
    EXPECT_TRUE(cluster.store(id).HasAlarm(1, etcdserverpb::NOSPACE)) << "member " << id;
    EXPECT_TRUE(cluster.store(id).space_exceeded()) << "member " << id;
  }
}

TEST(DriverQuota, TheReplicatedAlarmRefusesWritesThroughAMemberWithoutAQuota) {
  TestCluster cluster(3, [](DriverOptions& o) { o.quota_bytes = o.id == 1 ? kQuota : 0; });
  ASSERT_TRUE(cluster.Elect(1));
  ASSERT_GT(FillUntilRefused(cluster, 1), 0);
  const int64_t revision = cluster.store(2).revision();
  // Member 2 checks no quota of its own, so it proposes the put; every store refuses it.
  EXPECT_TRUE(IsNoSpace(WriteAndSettle(cluster, 2, PutRequest("small", "x"))));
  kvpb::Request grant;
  grant.mutable_lease_grant()->set_ttl(60);
  EXPECT_TRUE(IsNoSpace(WriteAndSettle(cluster, 2, grant)));
  for (uint64_t id : cluster.ids()) EXPECT_EQ(cluster.store(id).revision(), revision);
}

TEST(DriverQuota, DeletesAndCompactionStillApplyAndDisarmingLetsWritesThrough) {
  TestCluster cluster(3, [](DriverOptions& o) { o.quota_bytes = kQuota; });
  ASSERT_TRUE(cluster.Elect(1));
  ASSERT_GT(FillUntilRefused(cluster, 1), 0);

  kvpb::Request del;
  del.mutable_delete_range()->set_key("k");
  del.mutable_delete_range()->set_range_end("l");
  WriteResult deleted = WriteAndSettle(cluster, 2, del);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_GT(deleted->delete_range().deleted(), 0);
  kvpb::Request compact;
  compact.mutable_compaction()->set_revision(cluster.store(1).revision());
  ASSERT_TRUE(WriteAndSettle(cluster, 1, compact).ok());
  EXPECT_LT(cluster.store(1).size_bytes(), kQuota / 2);
  // Room again, but the alarm still stands until an operator disarms it.
  EXPECT_TRUE(IsNoSpace(WriteAndSettle(cluster, 1, PutRequest("a", "1"))));

  WriteResult disarmed =
      WriteAndSettle(cluster, 3, AlarmRequest(etcdserverpb::AlarmRequest::DEACTIVATE, 1));
  ASSERT_TRUE(disarmed.ok()) << disarmed.status();
  EXPECT_EQ(disarmed->alarm().alarms_size(), 1);
  for (uint64_t id : cluster.ids()) EXPECT_FALSE(cluster.store(id).space_exceeded());
  EXPECT_TRUE(WriteAndSettle(cluster, 1, PutRequest("a", "1")).ok());
}

TEST(DriverQuota, AMemberWhoseAppliedWritesPassItsQuotaRaisesItsOwnAlarm) {
  // Only member 3 has a quota, and no write goes through it: it sees its store pass the quota
  // when it applies the leader's writes.
  TestCluster cluster(3, [](DriverOptions& o) { o.quota_bytes = o.id == 3 ? kQuota : 0; });
  ASSERT_TRUE(cluster.Elect(1));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        WriteAndSettle(cluster, 1, PutRequest("k" + std::to_string(i), std::string(800, 'v')))
            .ok());
  }
  for (uint64_t id : cluster.ids()) {
    EXPECT_TRUE(cluster.store(id).HasAlarm(3, etcdserverpb::NOSPACE)) << "member " << id;
    EXPECT_FALSE(cluster.store(id).HasAlarm(1, etcdserverpb::NOSPACE)) << "member " << id;
  }
}

TEST(DriverQuota, RefusedWritesUnderARaisedAlarmAddNothingToTheLog) {
  TestCluster cluster(1, [](DriverOptions& o) { o.quota_bytes = kQuota; });
  ASSERT_TRUE(cluster.Elect(1));
  ASSERT_GT(FillUntilRefused(cluster, 1), 0);
  ASSERT_TRUE(cluster.store(1).HasAlarm(1, etcdserverpb::NOSPACE));
  const uint64_t last = cluster.driver(1).commit();
  for (int i = 0; i < 5; ++i) {
    // Past the retry interval, so only the raised alarm keeps the member from proposing it.
    cluster.TickAll(10);
    cluster.Stabilize();
    EXPECT_TRUE(IsNoSpace(WriteAndSettle(cluster, 1, PutRequest("more", std::string(900, 'v')))));
  }
  EXPECT_EQ(cluster.driver(1).commit(), last);
}

TEST(DriverQuota, WithoutAQuotaNothingIsRefused) {
  TestCluster cluster(1);
  ASSERT_TRUE(cluster.Elect(1));
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(
        WriteAndSettle(cluster, 1, PutRequest("k" + std::to_string(i), std::string(1000, 'v')))
            .ok());
  }
  EXPECT_GT(cluster.store(1).size_bytes(), 30000);
  EXPECT_FALSE(cluster.store(1).space_exceeded());
}

}  // namespace
}  // namespace raftkv::node
