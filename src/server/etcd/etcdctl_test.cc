// Debian's etcdctl 3.4 against the client API (over the single-member test backend): the
// commands and outputs users rely on. etcdctl is a test dependency (scripts/setup.sh installs
// etcd-client), so its absence fails the tests rather than skipping them.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "fmt/format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/etcd/test_backend.h"

namespace raftkv::server::etcd {
namespace {

using ::testing::HasSubstr;
using testing::TestBackend;
using testing::TestServer;

constexpr const char* kEtcdctl = "/usr/bin/etcdctl";

struct Result {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

std::string Quote(const std::string& arg) {
  std::string quoted = "'";
  for (char c : arg) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

class EtcdctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(kEtcdctl, X_OK), 0)
        << kEtcdctl << " is not installed; scripts/setup.sh installs etcd-client";
  }

  Result Run(const std::vector<std::string>& args, const std::string& input = "") {
    char input_path[] = "/tmp/raftkv-etcdctl-input-XXXXXX";
    const int fd = mkstemp(input_path);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(write(fd, input.data(), input.size()), static_cast<ssize_t>(input.size()));
    close(fd);
    std::string command =
        fmt::format("ETCDCTL_API=3 {} --endpoints={} --dial-timeout=5s --command-timeout=10s",
                    kEtcdctl, server_.address());
    for (const std::string& arg : args) command += " " + Quote(arg);
    command += fmt::format(" < {} 2>&1", input_path);
    Result result;
    FILE* pipe = popen(command.c_str(), "r");
    EXPECT_NE(pipe, nullptr);
    char buffer[4096];
    size_t n = 0;
    while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
    const int status = pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    unlink(input_path);
    return result;
  }

  // Runs a command that must succeed and returns its output.
  std::string Ok(const std::vector<std::string>& args, const std::string& input = "") {
    Result result = Run(args, input);
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return result.output;
  }

  TestServer server_;
};

TEST_F(EtcdctlTest, PutPrintsOk) { EXPECT_EQ(Ok({"put", "foo", "bar"}), "OK\n"); }

TEST_F(EtcdctlTest, GetPrintsKeyThenValue) {
  Ok({"put", "foo", "bar"});
  EXPECT_EQ(Ok({"get", "foo"}), "foo\nbar\n");
}

TEST_F(EtcdctlTest, GetOfAMissingKeyPrintsNothing) { EXPECT_EQ(Ok({"get", "nothing"}), ""); }

TEST_F(EtcdctlTest, GetPrefixListsMatchingKeysInOrder) {
  Ok({"put", "foo/b", "2"});
  Ok({"put", "foo/a", "1"});
  Ok({"put", "fop", "3"});
  EXPECT_EQ(Ok({"get", "foo/", "--prefix"}), "foo/a\n1\nfoo/b\n2\n");
}

TEST_F(EtcdctlTest, GetKeysOnlyOmitsValues) {
  Ok({"put", "foo/a", "value-a"});
  Ok({"put", "foo/b", "value-b"});
  const std::string output = Ok({"get", "foo/", "--prefix", "--keys-only"});
  EXPECT_THAT(output, HasSubstr("foo/a"));
  EXPECT_THAT(output, HasSubstr("foo/b"));
  EXPECT_THAT(output, ::testing::Not(HasSubstr("value-")));
}

TEST_F(EtcdctlTest, GetLimitReturnsTheFirstKeys) {
  Ok({"put", "foo/a", "1"});
  Ok({"put", "foo/b", "2"});
  Ok({"put", "foo/c", "3"});
  EXPECT_EQ(Ok({"get", "foo/", "--prefix", "--limit=2"}), "foo/a\n1\nfoo/b\n2\n");
}

TEST_F(EtcdctlTest, GetJsonCarriesHeaderRevisionsCountAndMore) {
  Ok({"put", "foo/a", "1"});
  Ok({"put", "foo/b", "2"});
  const std::string output = Ok({"get", "foo/", "--prefix", "--limit=1", "-w", "json"});
  EXPECT_THAT(output, HasSubstr(fmt::format("\"cluster_id\":{}", TestBackend::kClusterId)));
  EXPECT_THAT(output, HasSubstr(fmt::format("\"member_id\":{}", TestBackend::kMemberId)));
  EXPECT_THAT(output, HasSubstr("\"revision\":3"));
  EXPECT_THAT(output, HasSubstr(fmt::format("\"raft_term\":{}", TestBackend::kTerm)));
  EXPECT_THAT(output, HasSubstr("\"key\":\"Zm9vL2E=\""));  // base64("foo/a")
  EXPECT_THAT(output, HasSubstr("\"create_revision\":2"));
  EXPECT_THAT(output, HasSubstr("\"version\":1"));
  EXPECT_THAT(output, HasSubstr("\"more\":true"));
  EXPECT_THAT(output, HasSubstr("\"count\":2"));
}

TEST_F(EtcdctlTest, GetFromKeyListsEveryKeyFromThere) {
  Ok({"put", "a", "1"});
  Ok({"put", "b", "2"});
  Ok({"put", "c", "3"});
  EXPECT_EQ(Ok({"get", "b", "--from-key", "--keys-only"}), "b\n\nc\n\n");
}

TEST_F(EtcdctlTest, GetSortedDescending) {
  Ok({"put", "a", "1"});
  Ok({"put", "b", "2"});
  EXPECT_EQ(Ok({"get", "a", "--from-key", "--order=DESCEND"}), "b\n2\na\n1\n");
}

TEST_F(EtcdctlTest, GetAtAPastRevisionAndAfterCompaction) {
  Ok({"put", "k", "old"});
  Ok({"put", "k", "new"});
  EXPECT_EQ(Ok({"get", "k", "--rev=2"}), "k\nold\n");
  EXPECT_EQ(Ok({"compaction", "3"}), "compacted revision 3\n");
  Result result = Run({"get", "k", "--rev=2"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_THAT(result.output, HasSubstr("etcdserver: mvcc: required revision has been compacted"));
}

TEST_F(EtcdctlTest, EndpointHashKVPrintsTheHash) {
  Ok({"put", "k", "v"});
  EXPECT_THAT(Ok({"endpoint", "hashkv"}), HasSubstr(server_.address() + ", "));
}

TEST_F(EtcdctlTest, DelWithPrevKvPrintsCountAndDeletedPairs) {
  Ok({"put", "foo", "bar"});
  EXPECT_EQ(Ok({"del", "foo", "--prev-kv"}), "1\nfoo\nbar\n");
  EXPECT_EQ(Ok({"get", "foo"}), "");
}

TEST_F(EtcdctlTest, DelOfAMissingKeyDeletesNothing) { EXPECT_EQ(Ok({"del", "missing"}), "0\n"); }

TEST_F(EtcdctlTest, InteractiveTxnTakesTheSuccessBranch) {
  Ok({"put", "k", "v"});
  const std::string input = "value(\"k\") = \"v\"\n\nput k then\n\nput k else\n\n";
  EXPECT_EQ(Ok({"txn"}, input), "SUCCESS\n\nOK\n");
  EXPECT_EQ(Ok({"get", "k"}), "k\nthen\n");
}

TEST_F(EtcdctlTest, InteractiveTxnTakesTheFailureBranch) {
  Ok({"put", "k", "v"});
  const std::string input = "mod(\"k\") > \"100\"\n\nput k then\n\nput k else\nget k\n\n";
  EXPECT_EQ(Ok({"txn"}, input), "FAILURE\n\nOK\n\nk\nelse\n");
}

TEST_F(EtcdctlTest, ErrorsComeBackInEtcdsWords) {
  Result result = Run({"put", "k", "v", "--lease=1234"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_THAT(result.output, HasSubstr("etcdserver: requested lease not found"));
}

TEST_F(EtcdctlTest, EndpointStatusShowsMemberLeaderAndVersion) {
  Ok({"put", "k", "v"});
  const std::string output = Ok({"endpoint", "status"});
  // endpoint, ID, version, db size, is leader, is learner, raft term, raft index, applied index
  EXPECT_THAT(output, HasSubstr(fmt::format("{}, {:x}, 3.4.0, ", server_.address(),
                                            TestBackend::kMemberId)));
  EXPECT_THAT(output, HasSubstr(", true, false, 7, 2, 1, \n"));
}

TEST_F(EtcdctlTest, EndpointStatusJsonReportsLeaderAndRaftIndexes) {
  const std::string output = Ok({"endpoint", "status", "-w", "json"});
  EXPECT_THAT(output, HasSubstr(fmt::format("\"leader\":{}", TestBackend::kMemberId)));
  EXPECT_THAT(output, HasSubstr("\"raftTerm\":7"));
  EXPECT_THAT(output, HasSubstr("\"version\":\"3.4.0\""));
}

TEST_F(EtcdctlTest, EndpointHealthIsHealthy) {
  EXPECT_THAT(Ok({"endpoint", "health"}),
              HasSubstr(server_.address() + " is healthy: successfully committed proposal"));
}

TEST_F(EtcdctlTest, EndpointHealthFailsWithoutLeader) {
  server_.backend().FailLinearizableReads(NoLeaderError());
  Result result = Run({"endpoint", "health"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_THAT(result.output, HasSubstr("is unhealthy"));
}

TEST_F(EtcdctlTest, MemberListShowsStartedAndUnstartedMembers) {
  const std::string output = Ok({"member", "list"});
  EXPECT_THAT(output, HasSubstr(fmt::format("{:x}, started, infra0, http://127.0.0.1:2380, "
                                            "http://{}, false",
                                            TestBackend::kMemberId, server_.address())));
  EXPECT_THAT(output, HasSubstr("2a, unstarted, , http://127.0.0.1:2390, , false"));
}

}  // namespace
}  // namespace raftkv::server::etcd
