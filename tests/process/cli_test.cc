// The `raftkv` command-line tool against a real cluster: reads and writes, status, the member
// list in etcdctl's format, and the error when no cluster is reachable.
#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "process_test_util.h"

namespace raftkv::process_test {
namespace {

using ::testing::HasSubstr;

class CliTest : public ClusterTest {
 protected:
  CommandResult Raftkv(const std::string& args, const std::string& endpoints = "") {
    return RunCommand(absl::StrCat(RAFTKV_CLI_PATH, " ", args, " --endpoints ",
                                   endpoints.empty() ? cluster_->Endpoints() : endpoints));
  }

  static std::vector<std::string> SortedLines(const std::string& text) {
    std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
    std::sort(lines.begin(), lines.end());
    return lines;
  }
};

TEST_F(CliTest, PutGetAndDeleteGoThroughAnyMember) {
  StartCluster();
  CommandResult put = Raftkv("put greeting hello", cluster_->endpoint(1));
  ASSERT_EQ(put.exit_code, 0) << put.output;
  CommandResult get = Raftkv("get greeting", cluster_->endpoint(2));
  EXPECT_EQ(get.exit_code, 0) << get.output;
  EXPECT_THAT(get.output, HasSubstr("hello"));
  CommandResult del = Raftkv("del greeting", cluster_->endpoint(0));
  EXPECT_EQ(del.exit_code, 0) << del.output;
  EXPECT_EQ(Etcdctl("get greeting").output, "");
}

// The lease commands print what etcdctl's print, and agree with etcdctl about the lease.
TEST_F(CliTest, LeaseCommandsGrantAttachRenewListAndRevoke) {
  StartCluster();
  CommandResult grant = Raftkv("lease grant 60", cluster_->endpoint(1));
  ASSERT_EQ(grant.exit_code, 0) << grant.output;
  std::vector<std::string> words = absl::StrSplit(grant.output, ' ');
  ASSERT_GE(words.size(), 2u) << grant.output;
  const std::string id = words[1];
  EXPECT_EQ(grant.output, absl::StrCat("lease ", id, " granted with TTL(60s)\n"));
  ASSERT_EQ(Raftkv("put leased yes --lease " + id).exit_code, 0);
  EXPECT_THAT(Raftkv("lease timetolive " + id + " --keys").output,
              HasSubstr("granted with TTL(60s), remaining("));
  EXPECT_THAT(Raftkv("lease timetolive " + id + " --keys").output,
              HasSubstr("attached keys([leased])"));
  EXPECT_THAT(Etcdctl("lease timetolive " + id + " --keys").output, HasSubstr("[leased]"));
  EXPECT_THAT(Raftkv("lease list").output, HasSubstr("found 1 leases\n" + id + "\n"));
  EXPECT_EQ(Raftkv("lease keep-alive " + id).output,
            absl::StrCat("lease ", id, " keepalived with TTL(60)\n"));
  EXPECT_EQ(Raftkv("lease revoke " + id).output, absl::StrCat("lease ", id, " revoked\n"));
  EXPECT_EQ(Etcdctl("get leased").output, "");  // the revoke deleted the attached key
  EXPECT_EQ(Raftkv("lease timetolive " + id).output,
            absl::StrCat("lease ", id, " already expired\n"));
  CommandResult bad = Raftkv("lease revoke not-hex");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.output, HasSubstr("bad lease ID"));
}

TEST_F(CliTest, MembersPrintsWhatEtcdctlMemberListPrints) {
  StartCluster();
  // Every member has published its client URLs once etcdctl shows three of them.
  ASSERT_TRUE(Eventually([&] {
    const std::string list = Etcdctl("member list").output;
    return std::count(list.begin(), list.end(), '\n') == 3 &&
           list.find(", , ") == std::string::npos;
  }));
  CommandResult members = Raftkv("members");
  ASSERT_EQ(members.exit_code, 0) << members.output;
  EXPECT_EQ(SortedLines(members.output), SortedLines(Etcdctl("member list").output));
}

TEST_F(CliTest, StatusNamesTheLeader) {
  StartCluster();
  CommandResult status = Raftkv("status");
  EXPECT_EQ(status.exit_code, 0) << status.output;
  EXPECT_THAT(status.output, HasSubstr("(leader)"));
}

TEST_F(CliTest, NoReachableClusterIsAClearError) {
  absl::StatusOr<std::vector<int>> port = cli::PickFreePorts(1);
  ASSERT_TRUE(port.ok());
  CommandResult get =
      RunCommand(absl::StrCat(RAFTKV_CLI_PATH, " get k --endpoints 127.0.0.1:", (*port)[0]));
  EXPECT_NE(get.exit_code, 0);
  EXPECT_THAT(get.output, HasSubstr("raftkv: "));
  EXPECT_THAT(get.output, HasSubstr(absl::StrCat("127.0.0.1:", (*port)[0])));
}

}  // namespace
}  // namespace raftkv::process_test
