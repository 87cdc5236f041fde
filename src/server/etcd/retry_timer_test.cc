// RetryTimer: functions run at their time, in time order; a full timer refuses; destruction
// answers whoever still waits.
#include "server/etcd/retry_timer.h"

#include <vector>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace raftkv::server::etcd {
namespace {

TEST(RetryTimerTest, RunsFunctionsInTimeOrderNotScheduleOrder) {
  absl::Mutex mu;
  std::vector<int> order;
  absl::Notification both;
  RetryTimer timer;
  const absl::Time now = absl::Now();
  ASSERT_TRUE(timer.Schedule(now + absl::Milliseconds(60), [&](bool on_time) {
    EXPECT_TRUE(on_time);
    absl::MutexLock lock(&mu);
    order.push_back(2);
    both.Notify();
  }));
  ASSERT_TRUE(timer.Schedule(now + absl::Milliseconds(20), [&](bool on_time) {
    EXPECT_TRUE(on_time);
    absl::MutexLock lock(&mu);
    order.push_back(1);
  }));
  ASSERT_TRUE(both.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_GE(absl::Now() - now, absl::Milliseconds(60)) << "not before its time";
  absl::MutexLock lock(&mu);
  EXPECT_THAT(order, ::testing::ElementsAre(1, 2));
}

TEST(RetryTimerTest, AFullTimerRefusesAndLeavesTheFunctionWithTheCaller) {
  RetryTimer timer(/*max_pending=*/1);
  ASSERT_TRUE(timer.Schedule(absl::InfiniteFuture(), [](bool) {}));
  bool ran = false;
  RetryTimer::Fn refused = [&](bool) { ran = true; };
  EXPECT_FALSE(timer.Schedule(absl::Now(), std::move(refused)));
  ASSERT_TRUE(refused) << "still the caller's";
  refused(true);
  EXPECT_TRUE(ran);
}

TEST(RetryTimerTest, DestructionRunsWaitingFunctionsAsNotOnTime) {
  int answered_early = 0;
  {
    RetryTimer timer;
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(timer.Schedule(absl::Now() + absl::Hours(1), [&](bool on_time) {
        if (!on_time) ++answered_early;
      }));
    }
  }
  EXPECT_EQ(answered_early, 3);
}

}  // namespace
}  // namespace raftkv::server::etcd
