// Recovery from a lost quorum (docs/operations.md): the survivor restarted with etcd's
// --force-new-cluster keeps its data, leads alone, and lists only itself.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "process_test_util.h"

namespace raftkv::process_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class ForceNewClusterTest : public ClusterTest {};

TEST_F(ForceNewClusterTest, TheSurvivorKeepsItsDataAndServesAlone) {
  StartCluster();
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(Etcdctl(absl::StrCat("put k", i, " v", i)).exit_code, 0);
  }
  const int survivor = WaitForLeader();
  // Every member has applied the writes before the others are lost.
  ASSERT_TRUE(Eventually([&] { return LocalValue(survivor, "k4") == "v4"; }));
  for (int i = 0; i < 3; ++i) {
    if (i != survivor) cluster_->Kill(i);
  }
  ASSERT_TRUE(cluster_->Stop(survivor).ok());

  // Restarted as etcd's recovery procedure says: the same flags plus --force-new-cluster.
  std::vector<std::string> args = cluster_->ServerArgs(survivor);
  args.push_back("--force-new-cluster");
  const std::string log = data_dir_ + "/forced.log";
  CommandResult started = RunCommand(absl::StrCat(absl::StrJoin(args, " "), " > ", log,
                                                  " 2>&1 & echo $! > ", data_dir_, "/forced.pid"));
  ASSERT_EQ(started.exit_code, 0) << started.output;
  const std::string endpoint = cluster_->endpoint(survivor);
  EXPECT_TRUE(Eventually([&] { return Etcdctl("put after recovery", endpoint).exit_code == 0; }))
      << RunCommand("cat " + log).output;
  for (int i = 0; i < 5; ++i) {
    EXPECT_THAT(Etcdctl(absl::StrCat("get k", i), endpoint).output, HasSubstr(absl::StrCat("v", i)));
  }
  const std::string members = Etcdctl("member list", endpoint).output;
  EXPECT_THAT(members, HasSubstr(cluster_->name(survivor)));
  for (int i = 0; i < 3; ++i) {
    if (i != survivor) {
      EXPECT_THAT(members, Not(HasSubstr(cluster_->name(i) + ","))) << members;
    }
  }
  EXPECT_THAT(RunCommand("cat " + log).output, HasSubstr("--force-new-cluster"));
  EXPECT_EQ(RunCommand("kill $(cat " + data_dir_ + "/forced.pid)").exit_code, 0);
}

}  // namespace
}  // namespace raftkv::process_test
