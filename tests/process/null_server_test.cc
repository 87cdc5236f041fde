// raftkv-null-server (tools/null-server), the floor bench/etcd_compare.sh measures: etcdctl's
// put, get, endpoint status and member list against it (what etcd's benchmark --target-leader
// needs: Status naming itself the leader, MemberList giving its client URL), methods it does not
// serve refused, and bad flags refused.
#include <signal.h>

#include <regex>

#include "absl/strings/str_cat.h"
#include "process_test_util.h"

namespace raftkv::process_test {
namespace {

using ::testing::HasSubstr;

// ClusterTest for its scratch directory and etcdctl; no cluster is started.
class NullServerTest : public ClusterTest {
 protected:
  // Starts the server on a free port; returns its HOST:PORT, "" if it did not say.
  std::string Start() {
    server_ = std::make_unique<BackgroundCommand>(
        absl::StrCat(RAFTKV_NULL_SERVER_PATH, " --listen 127.0.0.1:0"),
        absl::StrCat(data_dir_, "/null.log"));
    const std::regex listening("listening on (127\\.0\\.0\\.1:[0-9]+)");
    std::smatch match;
    std::string output;
    Eventually([&] {
      output = server_->Output();
      return std::regex_search(output, match, listening);
    });
    return match.empty() ? "" : match[1].str();
  }

  std::unique_ptr<BackgroundCommand> server_;
};

TEST_F(NullServerTest, EtcdctlPutGetStatusAndMemberListWork) {
  const std::string endpoint = Start();
  ASSERT_FALSE(endpoint.empty()) << server_->Output();

  EXPECT_EQ(Etcdctl("put k1 v1", endpoint).exit_code, 0);
  CommandResult put = Etcdctl("put k1 v2 --prev-kv", endpoint);
  EXPECT_THAT(put.output, HasSubstr("v1"));  // the previous value
  EXPECT_EQ(Etcdctl("put k2 v3", endpoint).exit_code, 0);

  CommandResult get = Etcdctl("get k1 -w json", endpoint);
  ASSERT_EQ(get.exit_code, 0) << get.output;
  // Three puts on a store that starts at revision 1; k1 written twice.
  EXPECT_THAT(get.output, HasSubstr("\"revision\":4"));
  EXPECT_THAT(get.output, HasSubstr("\"raft_term\":1"));
  EXPECT_THAT(get.output, HasSubstr("\"create_revision\":2,\"mod_revision\":3,\"version\":2"));
  CommandResult prefix = Etcdctl("get k --prefix", endpoint);
  EXPECT_EQ(prefix.output, "k1\nv2\nk2\nv3\n");

  // Status names this member the leader; MemberList gives its client URL: what etcd's benchmark
  // --target-leader looks up.
  CommandResult status = Etcdctl("endpoint status", endpoint);
  ASSERT_EQ(status.exit_code, 0) << status.output;
  EXPECT_THAT(status.output,
              HasSubstr(", true, false, 1, 4, 4"));  // leader, not learner, term, index
  CommandResult members = Etcdctl("member list", endpoint);
  ASSERT_EQ(members.exit_code, 0) << members.output;
  EXPECT_THAT(members.output, HasSubstr(absl::StrCat("http://", endpoint)));
  EXPECT_EQ(Etcdctl("endpoint health", endpoint).exit_code, 0);

  // Not served: answered UNIMPLEMENTED at once, not left waiting.
  CommandResult del = Etcdctl("del k1", endpoint);
  EXPECT_NE(del.exit_code, 0);
  EXPECT_THAT(del.output, HasSubstr("Unimplemented"));
  CommandResult lease = Etcdctl("lease grant 10", endpoint);
  EXPECT_NE(lease.exit_code, 0);
  EXPECT_THAT(lease.output, HasSubstr("Unimplemented"));

  server_->Signal(SIGTERM);  // returns once the server has exited
}

TEST_F(NullServerTest, BadFlagsExitWithTwoAndSayWhy) {
  CommandResult no_port = RunCommand(absl::StrCat(RAFTKV_NULL_SERVER_PATH, " --listen localhost"));
  EXPECT_EQ(no_port.exit_code, 2);
  EXPECT_THAT(no_port.output, HasSubstr("HOST:PORT"));
  CommandResult scheme =
      RunCommand(absl::StrCat(RAFTKV_NULL_SERVER_PATH, " --listen http://127.0.0.1:1"));
  EXPECT_EQ(scheme.exit_code, 2);
  EXPECT_THAT(scheme.output, HasSubstr("without a scheme"));
  CommandResult unknown = RunCommand(absl::StrCat(RAFTKV_NULL_SERVER_PATH, " --bogus"));
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.output, HasSubstr("--bogus"));
}

}  // namespace
}  // namespace raftkv::process_test
