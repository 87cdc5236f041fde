// The leader's lease clock: expiry in ticks, renewals, promotion with a fresh TTL, one revoke
// proposal per expiry (again only after the retry interval).
#include "node/lease_clock.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace raftkv::node {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr uint64_t kTickMillis = 100;  // 10 ticks a second

std::vector<kv::LeaseState> Leases(std::vector<std::pair<int64_t, int64_t>> id_ttl) {
  std::vector<kv::LeaseState> leases;
  for (auto [id, ttl] : id_ttl) leases.push_back({.id = id, .ttl = ttl, .keys = {}});
  return leases;
}

TEST(LeaseClock, AFollowerKeepsNoExpiryAndExpiresNothing) {
  LeaseClock clock(kTickMillis);
  clock.Granted(0, 1, 5);
  EXPECT_FALSE(clock.primary());
  EXPECT_EQ(clock.size(), 0u);
  EXPECT_THAT(clock.TakeExpired(1'000'000, 30, 100), IsEmpty());
}

TEST(LeaseClock, PromotionGivesEveryLeaseItsFullTtlPlusTheExtension) {
  LeaseClock clock(kTickMillis);
  clock.Promote(/*now=*/100, /*extend_ticks=*/10, Leases({{1, 5}, {2, 2}}));
  // Lease 2 (2 s = 20 ticks) expires at 130, lease 1 (50 ticks) at 160.
  // (A retry interval of 100 ticks keeps lease 2 from coming round again meanwhile.)
  EXPECT_THAT(clock.TakeExpired(129, 100, 100), IsEmpty());
  EXPECT_THAT(clock.TakeExpired(130, 100, 100), ElementsAre(2));
  EXPECT_THAT(clock.TakeExpired(159, 100, 100), IsEmpty());
  EXPECT_THAT(clock.TakeExpired(160, 100, 100), ElementsAre(1));
}

TEST(LeaseClock, AGrantExpiresItsTtlAfterItWasApplied) {
  LeaseClock clock(kTickMillis);
  clock.Promote(0, 10, {});
  clock.Granted(/*now=*/7, /*id=*/3, /*ttl=*/2);
  // Asked in the tick of the grant, etcd's answer: its wall clock has moved on a little, so a
  // 2 s lease has 1.99... s left, 1 in whole seconds.
  EXPECT_EQ(clock.RemainingSeconds(7, 3), 1);
  EXPECT_EQ(clock.RemainingSeconds(16, 3), 1);  // 11 ticks left: whole seconds, rounded down
  EXPECT_EQ(clock.RemainingSeconds(17, 3), 0);  // 10 ticks: just under a second by now
  EXPECT_THAT(clock.TakeExpired(26, 30, 100), IsEmpty());
  EXPECT_THAT(clock.TakeExpired(27, 30, 100), ElementsAre(3));
}

TEST(LeaseClock, RenewalRestartsTheTtl) {
  LeaseClock clock(kTickMillis);
  clock.Promote(0, 0, Leases({{1, 2}}));
  EXPECT_TRUE(clock.Renew(15, 1, 2));
  EXPECT_THAT(clock.TakeExpired(34, 30, 100), IsEmpty());
  EXPECT_THAT(clock.TakeExpired(35, 30, 100), ElementsAre(1));
}

TEST(LeaseClock, AnExpiredLeaseCannotBeRenewed) {
  LeaseClock clock(kTickMillis);
  clock.Promote(0, 0, Leases({{1, 2}}));
  EXPECT_FALSE(clock.Renew(20, 1, 2)) << "expired at tick 20";
  EXPECT_THAT(clock.TakeExpired(20, 30, 100), ElementsAre(1));
  EXPECT_FALSE(clock.Renew(21, 1, 2)) << "its revoke is under way";
  EXPECT_EQ(clock.RemainingSeconds(21, 1), 0);
  EXPECT_FALSE(clock.Renew(21, 99, 2)) << "unknown lease";
}

TEST(LeaseClock, AnExpiredLeaseIsHandedOutAgainOnlyAfterTheRetryInterval) {
  LeaseClock clock(kTickMillis);
  clock.Promote(0, 0, Leases({{1, 1}}));
  EXPECT_THAT(clock.TakeExpired(10, 30, 100), ElementsAre(1));
  EXPECT_THAT(clock.TakeExpired(39, 30, 100), IsEmpty());
  EXPECT_THAT(clock.TakeExpired(40, 30, 100), ElementsAre(1));
  clock.Revoked(1);
  EXPECT_THAT(clock.TakeExpired(1000, 30, 100), IsEmpty());
  EXPECT_EQ(clock.RemainingSeconds(1000, 1), std::nullopt);
}

TEST(LeaseClock, TakeExpiredHandsOutAtMostTheLimitSoonestFirst) {
  LeaseClock clock(kTickMillis);
  clock.Promote(0, 0, Leases({{1, 3}, {2, 1}, {3, 2}}));
  EXPECT_THAT(clock.TakeExpired(100, 30, 2), ElementsAre(2, 3));
  EXPECT_THAT(clock.TakeExpired(100, 30, 2), ElementsAre(1));
}

TEST(LeaseClock, DemotionForgetsEveryExpiry) {
  LeaseClock clock(kTickMillis);
  clock.Promote(0, 0, Leases({{1, 1}}));
  clock.Demote();
  EXPECT_FALSE(clock.primary());
  EXPECT_THAT(clock.TakeExpired(1000, 30, 100), IsEmpty());
}

TEST(LeaseClock, FollowingASnapshotKeepsKnownExpiriesAndAddsNewLeases) {
  LeaseClock clock(kTickMillis);
  clock.Promote(0, 0, Leases({{1, 1}, {2, 1}}));
  clock.Follow(5, Leases({{2, 1}, {3, 1}}));
  EXPECT_EQ(clock.RemainingSeconds(5, 1), std::nullopt);
  EXPECT_THAT(clock.TakeExpired(10, 30, 100), ElementsAre(2));
  EXPECT_THAT(clock.TakeExpired(15, 30, 100), ElementsAre(3));
}

}  // namespace
}  // namespace raftkv::node
