// Bad input gets a clear error and loses nothing.
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "process_test_util.h"

namespace raftkv::process_test {
namespace {

using ::testing::HasSubstr;

class BadInputTest : public ClusterTest {};

TEST_F(BadInputTest, AnOversizedValueIsRefusedAndTheClusterKeepsServing) {
  StartCluster();
  ASSERT_EQ(Etcdctl("put keep me").exit_code, 0);
  const std::string big = data_dir_ + "/big-value";
  {
    std::ofstream out(big);
    out << std::string(1700 * 1024, 'x');  // above etcd's 1.5 MiB request limit
  }
  CommandResult put = Etcdctl("put big < " + big, cluster_->endpoint(0));
  EXPECT_NE(put.exit_code, 0);
  EXPECT_THAT(put.output, HasSubstr("request is too large"));
  EXPECT_EQ(Etcdctl("get keep --print-value-only").output, "me\n");
  EXPECT_EQ(Etcdctl("get big").output, "");
}

TEST_F(BadInputTest, AnEmptyKeyIsRefused) {
  StartCluster();
  CommandResult put = Etcdctl("put '' value");
  EXPECT_NE(put.exit_code, 0);
  EXPECT_THAT(put.output, HasSubstr("key is not provided"));
}

TEST_F(BadInputTest, ANameMissingFromTheInitialClusterStopsTheServerWithTheFix) {
  CommandResult r = RunCommand(absl::StrCat(
      RAFTKV_SERVER_PATH, " --name n9 --data-dir ", data_dir_, "/n9",
      " --listen-client-urls http://127.0.0.1:1 --advertise-client-urls http://127.0.0.1:1",
      " --listen-peer-urls http://127.0.0.1:2 --initial-advertise-peer-urls http://127.0.0.1:2",
      " --initial-cluster n1=http://127.0.0.1:3"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("'n9' is not in --initial-cluster"));
}

TEST_F(BadInputTest, AnElectionTimeoutBelowFiveHeartbeatsStopsTheServer) {
  CommandResult r = RunCommand(absl::StrCat(RAFTKV_SERVER_PATH, " --data-dir ", data_dir_,
                                            "/x --heartbeat-interval 100 --election-timeout 300"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("at least 5 times --heartbeat-interval"));
}

TEST_F(BadInputTest, ADataDirectoryInUseByAnotherServerIsRefused) {
  StartCluster();
  ASSERT_EQ(Etcdctl("put precious 1").exit_code, 0);
  // Member n1's exact command line again, while n1 runs: it must not touch n1's data.
  std::string command;
  for (const std::string& arg : cluster_->ServerArgs(0)) absl::StrAppend(&command, "'", arg, "' ");
  CommandResult r = RunCommand(command);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("is in use by another raftkv-server process"));
  EXPECT_EQ(Etcdctl("get precious --print-value-only", cluster_->endpoint(0)).output, "1\n");
}

}  // namespace
}  // namespace raftkv::process_test
