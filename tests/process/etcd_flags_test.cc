// An etcd launch script runs raftkv-server unchanged: etcd-only flags, ETCD_* variables and
// zap's JSON log lines.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "process_test_util.h"

namespace raftkv::process_test {
namespace {

using ::testing::HasSubstr;

class EtcdFlagsTest : public ClusterTest {};

// A port nobody listens on now (the kernel picks it; the race before the server binds it is
// harmless on a test machine's loopback).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST_F(EtcdFlagsTest, AnEtcdLaunchScriptWithEnvironmentServesAndLogsJson) {
  std::string client = absl::StrCat("http://127.0.0.1:", FreePort());
  std::string peer = absl::StrCat("http://127.0.0.1:", FreePort());
  std::string log = data_dir_ + "/etcd.log";
  std::string pid_file = data_dir_ + "/pid";
  // The membership comes from the variables `etcdctl member add` prints; the rest is a typical
  // etcd 3.4 command line, single-dash names included.
  CommandResult started = RunCommand(absl::StrCat(
      "ETCD_INITIAL_CLUSTER=n1=", peer, " ETCD_INITIAL_CLUSTER_STATE=new ",
      "ETCD_INITIAL_CLUSTER_TOKEN=tok-1 ", RAFTKV_SERVER_PATH, " -name n1 --data-dir ", data_dir_,
      "/n1 --listen-client-urls ", client, " --advertise-client-urls ", client,
      " --listen-peer-urls ", peer, " --initial-advertise-peer-urls ", peer,
      " --logger zap --log-outputs ", log,
      " --enable-v2=false --auto-compaction-retention=1 --auto-compaction-mode periodic",
      " --quota-backend-bytes 8589934592 --client-cert-auth=false --strict-reconfig-check",
      " > /dev/null 2>&1 & echo $! > ", pid_file));
  ASSERT_EQ(started.exit_code, 0) << started.output;
  EXPECT_TRUE(Eventually([&] { return Etcdctl("put launched yes", client).exit_code == 0; }));
  EXPECT_THAT(Etcdctl("get launched", client).output, HasSubstr("yes"));
  CommandResult stopped = RunCommand("kill $(cat " + pid_file + ")");
  EXPECT_EQ(stopped.exit_code, 0) << stopped.output;

  std::ifstream in(log);
  std::string line;
  int lines = 0;
  bool warned = false;
  while (std::getline(in, line)) {
    ++lines;
    EXPECT_TRUE(line.starts_with("{\"level\":\"") && line.ends_with("\"}")) << line;
    if (absl::StrContains(line, "--enable-v2 has no effect")) warned = true;
  }
  EXPECT_GT(lines, 3);
  EXPECT_TRUE(warned);
}

TEST_F(EtcdFlagsTest, AFlagEtcdDoesNotKnowExitsWithTwo) {
  CommandResult r = RunCommand(absl::StrCat(RAFTKV_SERVER_PATH, " --enable-v3=true"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("--enable-v3"));
}

TEST_F(EtcdFlagsTest, AVariableShadowedByAFlagStopsTheServer) {
  CommandResult r = RunCommand(absl::StrCat("ETCD_NAME=a ", RAFTKV_SERVER_PATH, " --name b"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("ETCD_NAME"));
}

}  // namespace
}  // namespace raftkv::process_test
