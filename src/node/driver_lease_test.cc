// Leases through the node driver, with ticks as the only clock: the grant is decided before it
// is proposed (id, minimum TTL), only the leader expires leases and does it through the log (so
// every member deletes the leased keys at the same revision), keep-alives and TTL queries are
// the leader's, and a new leader gives every lease a fresh TTL before it expires anything.
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kv/errors.h"
#include "node/driver.h"
#include "node/driver_test_util.h"
#include "node/errors.h"

namespace raftkv::node {
namespace {

using testing::TestCluster;

constexpr int kLongTimeout = 1000;
// DriverOptions' defaults: 100 ms ticks, 10-tick elections, so 10 ticks a second and etcd's
// minimum TTL is ceil(1.5 s) = 2 s.
constexpr int kTicksPerSecond = 10;
constexpr int kElectionTicks = 10;

struct Answer {
  std::optional<WriteResult> result;
  WriteDone Callback() {
    return [this](WriteResult r) { result = std::move(r); };
  }
};

kvpb::Request Grant(int64_t ttl, int64_t id = 0) {
  kvpb::Request request;
  request.mutable_lease_grant()->set_ttl(ttl);
  request.mutable_lease_grant()->set_id(id);
  return request;
}

kvpb::Request LeasedPut(const std::string& key, int64_t lease) {
  kvpb::Request request = testing::PutRequest(key, "v");
  request.mutable_put()->set_lease(lease);
  return request;
}

// Writes through `via` and returns the answer after the cluster settled.
WriteResult WriteAndSettle(TestCluster& cluster, uint64_t via, kvpb::Request request) {
  Answer answer;
  cluster.driver(via).Write(std::move(request), kLongTimeout, answer.Callback());
  cluster.Stabilize();
  EXPECT_TRUE(answer.result.has_value());
  return answer.result.value_or(absl::InternalError("no answer"));
}

int64_t GrantAndSettle(TestCluster& cluster, uint64_t via, int64_t ttl) {
  WriteResult granted = WriteAndSettle(cluster, via, Grant(ttl));
  EXPECT_TRUE(granted.ok()) << granted.status();
  return granted.ok() ? granted->lease_grant().id() : 0;
}

bool KeyExists(const kv::Store& store, const std::string& key) {
  etcdserverpb::RangeRequest request;
  request.set_key(key);
  auto response = store.Range(request);
  return response.ok() && response->kvs_size() == 1;
}

// One tick everywhere, then every message delivered (heartbeats keep the leader in place).
void TickAndSettle(TestCluster& cluster, int ticks) {
  for (int i = 0; i < ticks; ++i) {
    cluster.TickAll();
    cluster.Stabilize();
  }
}

std::optional<absl::StatusOr<LeaseTimeToLiveResult>> TimeToLive(Driver& driver, int64_t id,
                                                                 bool with_keys = false) {
  std::optional<absl::StatusOr<LeaseTimeToLiveResult>> answer;
  driver.LeaseTimeToLive(id, with_keys, kLongTimeout,
                         [&](absl::StatusOr<LeaseTimeToLiveResult> r) { answer = std::move(r); });
  return answer;
}

std::optional<absl::StatusOr<int64_t>> Renew(Driver& driver, int64_t id) {
  std::optional<absl::StatusOr<int64_t>> answer;
  driver.RenewLease(id, kLongTimeout, [&](absl::StatusOr<int64_t> r) { answer = std::move(r); });
  return answer;
}

TEST(DriverLeaseTest, AGrantWithoutIdGetsOneAndTheMinimumTtlBeforeItIsProposed) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Elect(1));
  EXPECT_EQ(cluster.driver(1).MinLeaseTtlSeconds(), 2);
  WriteResult granted = WriteAndSettle(cluster, 2, Grant(1));
  ASSERT_TRUE(granted.ok()) << granted.status();
  const int64_t id = granted->lease_grant().id();
  EXPECT_GT(id, 0);
  EXPECT_EQ(granted->lease_grant().ttl(), 2) << "raised to etcd's minimum TTL";
  for (uint64_t member : cluster.ids()) {
    auto lease = cluster.store(member).FindLease(id, false);
    ASSERT_TRUE(lease.has_value()) << "member " << member;
    EXPECT_EQ(lease->ttl, 2);
  }
}

TEST(DriverLeaseTest, AGrantWithAnIdKeepsIt) {
  TestCluster cluster(1);
  ASSERT_TRUE(cluster.Elect(1));
  WriteResult granted = WriteAndSettle(cluster, 1, Grant(30, 0x1234));
  ASSERT_TRUE(granted.ok());
  EXPECT_EQ(granted->lease_grant().id(), 0x1234);
  EXPECT_EQ(granted->lease_grant().ttl(), 30);
}

TEST(DriverLeaseTest, OnlyTheLeaderExpiresAndEveryMemberDeletesAtTheSameRevision) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Elect(1));
  const int64_t ttl = 3;
  const int64_t id = GrantAndSettle(cluster, 1, ttl);
  ASSERT_TRUE(WriteAndSettle(cluster, 2, LeasedPut("a", id)).ok());
  ASSERT_TRUE(WriteAndSettle(cluster, 3, LeasedPut("b", id)).ok());
  const int64_t revision_before = cluster.store(1).revision();

  EXPECT_TRUE(cluster.driver(1).lease_primary());
  for (uint64_t follower : {2, 3}) {
    EXPECT_FALSE(cluster.driver(follower).lease_primary());
    EXPECT_EQ(cluster.driver(follower).lease_clock().size(), 0u);
  }

  // The grant applied at most a few ticks ago: a tick short of the TTL, nothing is deleted.
  TickAndSettle(cluster, ttl * kTicksPerSecond - 1);
  for (uint64_t member : cluster.ids()) EXPECT_TRUE(KeyExists(cluster.store(member), "a"));

  TickAndSettle(cluster, 2);
  for (uint64_t member : cluster.ids()) {
    const kv::Store& store = cluster.store(member);
    EXPECT_FALSE(KeyExists(store, "a")) << "member " << member;
    EXPECT_FALSE(KeyExists(store, "b")) << "member " << member;
    EXPECT_FALSE(store.FindLease(id, false).has_value());
    // Both keys went in the one revoke entry: one revision, the same on every member.
    EXPECT_EQ(store.revision(), revision_before + 1) << "member " << member;
    auto events = store.Events("a", "c", revision_before, revision_before + 1, false, 10);
    ASSERT_TRUE(events.ok());
    EXPECT_EQ(events->events.size(), 2u);
  }
}

TEST(DriverLeaseTest, KeepAliveOnTheLeaderRestartsTheTtl) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Elect(1));
  const int64_t id = GrantAndSettle(cluster, 1, 2);
  ASSERT_TRUE(WriteAndSettle(cluster, 1, LeasedPut("k", id)).ok());
  for (int round = 0; round < 4; ++round) {
    TickAndSettle(cluster, 15);  // 1.5 s of a 2 s lease
    auto renewed = Renew(cluster.driver(1), id);
    ASSERT_TRUE(renewed.has_value() && renewed->ok());
    EXPECT_EQ(**renewed, 2);
  }
  EXPECT_TRUE(KeyExists(cluster.store(3), "k")) << "kept alive for 6 s";
  TickAndSettle(cluster, 21);
  EXPECT_FALSE(KeyExists(cluster.store(3), "k"));
  auto after = Renew(cluster.driver(1), id);
  ASSERT_TRUE(after.has_value() && after->ok());
  EXPECT_EQ(**after, 0) << "a keep-alive of a lease that is gone answers TTL 0, as etcd does";
}

TEST(DriverLeaseTest, AFollowerAnswersLeaseQueriesWithLeaderChanged) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Elect(1));
  const int64_t id = GrantAndSettle(cluster, 1, 5);
  auto renewed = Renew(cluster.driver(2), id);
  ASSERT_TRUE(renewed.has_value());
  EXPECT_EQ(renewed->status(), LeaderChangedError());
  auto ttl = TimeToLive(cluster.driver(2), id);
  ASSERT_TRUE(ttl.has_value());
  EXPECT_EQ(ttl->status(), LeaderChangedError());
}

TEST(DriverLeaseTest, TimeToLiveIsTheLeadersRemainingTimeAndTheKeys) {
  TestCluster cluster(1);
  ASSERT_TRUE(cluster.Elect(1));
  const int64_t id = GrantAndSettle(cluster, 1, 10);
  ASSERT_TRUE(WriteAndSettle(cluster, 1, LeasedPut("y", id)).ok());
  ASSERT_TRUE(WriteAndSettle(cluster, 1, LeasedPut("x", id)).ok());
  TickAndSettle(cluster, 35);
  auto ttl = TimeToLive(cluster.driver(1), id, /*with_keys=*/true);
  ASSERT_TRUE(ttl.has_value() && ttl->ok());
  EXPECT_EQ((*ttl)->granted_ttl, 10);
  EXPECT_EQ((*ttl)->remaining_seconds, 6);  // 6.5 s left, whole seconds
  EXPECT_THAT((*ttl)->keys, ::testing::ElementsAre("x", "y"));

  auto missing = TimeToLive(cluster.driver(1), id + 1);
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->status(), kv::LeaseNotFoundError());
}

TEST(DriverLeaseTest, ANewLeaderGivesEveryLeaseAFreshTtlBeforeExpiringAnything) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Elect(1));
  const int64_t ttl = 3;
  const int64_t id = GrantAndSettle(cluster, 1, ttl);
  ASSERT_TRUE(WriteAndSettle(cluster, 1, LeasedPut("k", id)).ok());
  // Most of the TTL passes under the first leader, then leadership moves.
  TickAndSettle(cluster, ttl * kTicksPerSecond - 5);
  cluster.driver(1).TransferLeader(2);
  cluster.Stabilize();
  ASSERT_EQ(cluster.driver(2).role(), raft::StateRole::kLeader);
  EXPECT_FALSE(cluster.driver(1).lease_primary()) << "the old leader keeps no expiry";
  ASSERT_TRUE(cluster.driver(2).lease_primary()) << "took over after applying its first entry";
  auto remaining = TimeToLive(cluster.driver(2), id);
  ASSERT_TRUE(remaining.has_value() && remaining->ok());
  EXPECT_GE((*remaining)->remaining_seconds, ttl);

  // The old leader's expiry passes: the key stays until a full TTL (plus an election timeout)
  // has passed under the new leader.
  TickAndSettle(cluster, ttl * kTicksPerSecond + kElectionTicks - 1);
  EXPECT_TRUE(KeyExists(cluster.store(3), "k"));
  TickAndSettle(cluster, 2);
  EXPECT_FALSE(KeyExists(cluster.store(3), "k"));
  EXPECT_EQ(cluster.store(1).revision(), cluster.store(3).revision());
}

TEST(DriverLeaseTest, ALeaseQueryOnANewLeaderWaitsUntilItTookOverExpiry) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Elect(1));
  const int64_t id = GrantAndSettle(cluster, 1, 5);
  cluster.driver(1).TransferLeader(2);
  // Deliver until 2 leads but before it applied its first entry: step by step.
  std::optional<absl::StatusOr<int64_t>> answer;
  for (int round = 0; round < 100 && !answer.has_value(); ++round) {
    cluster.ProcessAll();
    if (cluster.driver(2).role() == raft::StateRole::kLeader && !cluster.driver(2).lease_primary()) {
      cluster.driver(2).RenewLease(id, kLongTimeout,
                                   [&](absl::StatusOr<int64_t> r) { answer = std::move(r); });
      EXPECT_FALSE(answer.has_value()) << "answered before the new leader knows every lease";
      break;
    }
    for (uint64_t m : cluster.ids()) {
      auto sent = std::move(cluster.member(m).network.sent);
      cluster.member(m).network.sent.clear();
      for (const raftpb::Message& msg : sent) cluster.driver(msg.to()).Step(msg);
    }
  }
  cluster.Stabilize();
  ASSERT_TRUE(answer.has_value());
  ASSERT_TRUE(answer->ok()) << answer->status();
  EXPECT_EQ(**answer, 5);
}

}  // namespace
}  // namespace raftkv::node
