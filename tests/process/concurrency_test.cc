// etcdctl lock and etcdctl elect (clientv3's concurrency package over KV, Lease and Watch)
// against a three-member raftkv cluster, every endpoint given so that clientv3 spreads its
// calls, lease keep-alives included, over followers as well as the leader: a second lock
// contender acquires only once the first exits or, killed with SIGKILL, loses its lease; a
// second candidate leads once the first resigns, and `elect -l` observes both.
#include <signal.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "process_test_util.h"

namespace raftkv::process_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class ConcurrencyTest : public ClusterTest {
 protected:
  std::string OutputPath(const std::string& name) const {
    return absl::StrCat(data_dir_, "/", name, ".out");
  }

  // etcdctl with every member as endpoint, in the background.
  std::unique_ptr<BackgroundCommand> Background(const std::string& args, const std::string& name) {
    return std::make_unique<BackgroundCommand>(
        absl::StrCat("env ETCDCTL_API=3 /usr/bin/etcdctl --endpoints=", cluster_->Endpoints(), " ",
                     args),
        OutputPath(name));
  }

  // The keys under `prefix`, in create order of nothing in particular (key order).
  std::vector<std::string> Keys(const std::string& prefix) {
    CommandResult get = Etcdctl(absl::StrCat("get ", prefix, " --prefix --keys-only"));
    std::vector<std::string> keys;
    for (absl::string_view line : absl::StrSplit(get.output, '\n', absl::SkipEmpty())) {
      keys.emplace_back(line);
    }
    return keys;
  }

  // The first line etcdctl lock/elect printed once it held the lock or led: the key.
  static std::string FirstLine(const std::string& output) {
    return output.substr(0, output.find('\n'));
  }
};

TEST_F(ConcurrencyTest, ASecondLockContenderAcquiresOnlyAfterTheFirstExits) {
  StartCluster();
  auto first = Background("lock jobs", "first");
  ASSERT_TRUE(Eventually([&] { return first->Output().find("jobs/") == 0; })) << first->Output();
  auto second = Background("lock jobs", "second");
  // The second contender queued its key behind the first's.
  ASSERT_TRUE(Eventually([&] { return Keys("jobs/").size() == 2; }));
  EXPECT_THAT(second->Output(), Not(HasSubstr("jobs/"))) << "acquired while the first held";

  first->Signal(SIGTERM);  // etcdctl unlocks on SIGTERM
  ASSERT_TRUE(Eventually([&] { return second->Output().find("jobs/") == 0; })) << second->Output();
  EXPECT_NE(FirstLine(second->Output()), FirstLine(first->Output()));
  EXPECT_EQ(Keys("jobs/").size(), 1u);
}

TEST_F(ConcurrencyTest, ALockHolderKilledWithSigkillLosesTheLockWhenItsLeaseExpires) {
  StartCluster();
  auto holder = Background("lock --ttl=3 jobs", "holder");
  ASSERT_TRUE(Eventually([&] { return holder->Output().find("jobs/") == 0; })) << holder->Output();
  const std::string holder_key = FirstLine(holder->Output());
  auto waiter = Background("lock --ttl=3 jobs", "waiter");
  ASSERT_TRUE(Eventually([&] { return Keys("jobs/").size() == 2; }));
  EXPECT_THAT(waiter->Output(), Not(HasSubstr("jobs/")));

  // No unlock and no more keep-alives: the leader expires the lease, which deletes the key.
  holder->Signal(SIGKILL);
  ASSERT_TRUE(Eventually([&] { return waiter->Output().find("jobs/") == 0; })) << waiter->Output();
  EXPECT_NE(FirstLine(waiter->Output()), holder_key);
  EXPECT_EQ(Keys("jobs/"), std::vector<std::string>{FirstLine(waiter->Output())});
}

TEST_F(ConcurrencyTest, ASecondCandidateLeadsOnceTheFirstResignsAndTheObserverSeesBoth) {
  StartCluster();
  auto observer = Background("elect -l svc", "observer");
  auto first = Background("elect svc host-a", "first");
  ASSERT_TRUE(Eventually([&] { return first->Output().find("svc/") == 0; })) << first->Output();
  EXPECT_THAT(first->Output(), HasSubstr("\nhost-a\n"));
  auto second = Background("elect svc host-b", "second");
  ASSERT_TRUE(Eventually([&] { return Keys("svc/").size() == 2; }));
  EXPECT_THAT(second->Output(), Not(HasSubstr("svc/")));
  ASSERT_TRUE(Eventually([&] { return observer->Output().find("host-a") != std::string::npos; }))
      << observer->Output();

  first->Signal(SIGTERM);  // etcdctl resigns on SIGTERM
  ASSERT_TRUE(Eventually([&] { return second->Output().find("svc/") == 0; })) << second->Output();
  EXPECT_THAT(second->Output(), HasSubstr("\nhost-b\n"));
  ASSERT_TRUE(Eventually([&] { return observer->Output().find("host-b") != std::string::npos; }))
      << observer->Output();
  const std::string observed = observer->Output();
  EXPECT_LT(observed.find("host-a"), observed.find("host-b"));
}

}  // namespace
}  // namespace raftkv::process_test
