// Watch against a three-member raftkv cluster, with Debian's etcdctl (clientv3 3.4) and the
// raftkv tool as the watchers: live events, --rev, --prefix, --prev-kv, and a watcher whose
// member is killed with SIGKILL while keys are written, which must print every key once, in
// order.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "process_test_util.h"

namespace raftkv::process_test {
namespace {

// One line of `etcdctl watch -w json`: who served it and the keys of its events.
struct JsonResponse {
  uint64_t member_id = 0;
  std::vector<std::string> keys;
};

std::vector<JsonResponse> ParseJsonLines(const std::string& output) {
  static const std::regex kMember("\"member_id\":([0-9]+)");
  static const std::regex kKey("\"kv\":\\{\"key\":\"([^\"]*)\"");
  std::vector<JsonResponse> responses;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch member;
    if (!std::regex_search(line, member, kMember)) continue;
    JsonResponse& response = responses.emplace_back();
    EXPECT_TRUE(absl::SimpleAtoi(member[1].str(), &response.member_id));
    for (auto it = std::sregex_iterator(line.begin(), line.end(), kKey);
         it != std::sregex_iterator(); ++it) {
      std::string key;
      EXPECT_TRUE(absl::Base64Unescape((*it)[1].str(), &key));
      response.keys.push_back(key);
    }
  }
  return responses;
}

std::string Key(int i) { return absl::StrFormat("n/%04d", i); }

class WatchTest : public ClusterTest {
 protected:
  std::string OutputPath(const std::string& name) const {
    return absl::StrCat(data_dir_, "/", name, ".out");
  }

  // The store revision, as the cluster reports it in a read's header.
  int64_t Revision() {
    cli::EtcdClient client(cluster_->endpoint(WaitForLeader()), absl::Seconds(5));
    absl::StatusOr<etcdserverpb::RangeResponse> r = client.Get("any");
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->header().revision() : 0;
  }

  // Creates `key` exactly once through any running member, retrying through elections: a txn
  // that puts only while the key does not exist, so a retried request never writes twice.
  void CreateOnce(const std::string& key) {
    etcdserverpb::TxnRequest txn;
    etcdserverpb::Compare* absent = txn.add_compare();
    absent->set_key(key);
    absent->set_target(etcdserverpb::Compare::CREATE);
    absent->set_result(etcdserverpb::Compare::EQUAL);
    absent->set_create_revision(0);
    etcdserverpb::PutRequest* put = txn.add_success()->mutable_request_put();
    put->set_key(key);
    put->set_value("v");
    EXPECT_TRUE(Eventually(
        [&] {
          for (int i = 0; i < cluster_->size(); ++i) {
            if (!cluster_->running(i)) continue;
            auto kv = etcdserverpb::KV::NewStub(
                grpc::CreateChannel(cluster_->endpoint(i), grpc::InsecureChannelCredentials()));
            grpc::ClientContext context;
            context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
            etcdserverpb::TxnResponse response;
            if (kv->Txn(&context, txn, &response).ok()) return true;
          }
          return false;
        },
        absl::Seconds(30)))
        << "could not write " << key;
  }

  // The member whose id is `id`, from etcdctl's endpoint status ("endpoint, id-in-hex, ...").
  int MemberIndex(uint64_t id) {
    for (int i = 0; i < cluster_->size(); ++i) {
      CommandResult status = Etcdctl("endpoint status", cluster_->endpoint(i));
      if (status.output.find(absl::StrCat(", ", absl::Hex(id), ", ")) != std::string::npos) {
        return i;
      }
    }
    return -1;
  }

  void ResumeAfter(const std::function<void()>& stop, const std::string& name);
  std::string last_output_;
};

TEST_F(WatchTest, EtcdctlWatchPrintsLiveEventsInEtcdctlsFormat) {
  StartCluster();
  BackgroundCommand watcher(
      absl::StrCat("env ETCDCTL_API=3 /usr/bin/etcdctl --endpoints=", cluster_->endpoint(1),
                   " watch live"),
      OutputPath("live"));
  // A watch from now sees only writes made after it started: write until one shows up.
  ASSERT_TRUE(Eventually([&] {
    Etcdctl("put live probe");
    return watcher.Output().find("probe") != std::string::npos;
  }));
  ASSERT_EQ(Etcdctl("put live hello").exit_code, 0);
  ASSERT_EQ(Etcdctl("del live").exit_code, 0);
  const std::string expected_tail = "PUT\nlive\nhello\nDELETE\nlive\n\n";
  EXPECT_TRUE(Eventually([&] {
    const std::string out = watcher.Output();
    return out.size() >= expected_tail.size() &&
           out.compare(out.size() - expected_tail.size(), expected_tail.size(),
                       expected_tail) == 0;
  })) << watcher.Output();
}

TEST_F(WatchTest, EtcdctlWatchRevReplaysHistoryAndPrefixWithPrevKv) {
  StartCluster();
  ASSERT_EQ(Etcdctl("put cfg/a one").exit_code, 0);
  const int64_t start = Revision() + 1;
  ASSERT_EQ(Etcdctl("put cfg/a two").exit_code, 0);
  ASSERT_EQ(Etcdctl("put other x").exit_code, 0);
  ASSERT_EQ(Etcdctl("put cfg/b three").exit_code, 0);
  ASSERT_EQ(Etcdctl("del cfg/a").exit_code, 0);
  // History from `start` on member 2, prefix only, each event after the pair it replaced.
  BackgroundCommand watcher(
      absl::StrCat("env ETCDCTL_API=3 /usr/bin/etcdctl --endpoints=", cluster_->endpoint(2),
                   " watch cfg/ --prefix --prev-kv --rev=", start),
      OutputPath("history"));
  const std::string expected =
      "PUT\ncfg/a\none\ncfg/a\ntwo\n"
      "PUT\ncfg/b\nthree\n"
      "DELETE\ncfg/a\ntwo\ncfg/a\n\n";
  EXPECT_TRUE(Eventually([&] { return watcher.Output() == expected; }, absl::Seconds(10)))
      << watcher.Output();
}

TEST_F(WatchTest, RaftkvWatchPrintsWhatEtcdctlPrints) {
  StartCluster();
  const int64_t start = Revision() + 1;
  ASSERT_EQ(Etcdctl("put tool/x 1").exit_code, 0);
  ASSERT_EQ(Etcdctl("put tool/x 2").exit_code, 0);
  BackgroundCommand raftkv(absl::StrCat(RAFTKV_CLI_PATH, " watch tool/ --prefix --prev-kv --rev ",
                                        start, " --endpoints ", cluster_->endpoint(0)),
                           OutputPath("raftkv"));
  BackgroundCommand etcdctl(
      absl::StrCat("env ETCDCTL_API=3 /usr/bin/etcdctl --endpoints=", cluster_->endpoint(0),
                   " watch tool/ --prefix --prev-kv --rev=", start),
      OutputPath("etcdctl"));
  const std::string expected = "PUT\ntool/x\n1\nPUT\ntool/x\n1\ntool/x\n2\n";
  EXPECT_TRUE(Eventually([&] { return etcdctl.Output() == expected; }, absl::Seconds(10)))
      << etcdctl.Output();
  EXPECT_TRUE(Eventually([&] { return raftkv.Output() == expected; }, absl::Seconds(10)))
      << raftkv.Output();
}

// Writes keys 1..kKeys, kills the member serving the watch (SIGKILL) halfway, and checks that
// the watcher printed every key exactly once, in order.
constexpr int kKeys = 40;

TEST_F(WatchTest, EtcdctlWatcherSurvivesAKillOfItsMemberWithoutLosingAnEvent) {
  StartCluster();
  const int64_t start = Revision() + 1;
  BackgroundCommand watcher(absl::StrCat("env ETCDCTL_API=3 /usr/bin/etcdctl --endpoints=",
                                         cluster_->Endpoints(), " watch n/ --prefix -w json",
                                         " --rev=", start),
                            OutputPath("survivor"));
  auto printed = [&] {
    std::vector<std::string> keys;
    for (const JsonResponse& r : ParseJsonLines(watcher.Output())) {
      keys.insert(keys.end(), r.keys.begin(), r.keys.end());
    }
    return keys;
  };
  for (int i = 1; i <= kKeys / 2; ++i) CreateOnce(Key(i));
  ASSERT_TRUE(Eventually([&] { return printed().size() >= kKeys / 2; })) << watcher.Output();
  // The header says which member serves the stream: that is the one to kill.
  const int serving = MemberIndex(ParseJsonLines(watcher.Output()).back().member_id);
  ASSERT_GE(serving, 0) << watcher.Output();
  cluster_->Kill(serving);
  for (int i = kKeys / 2 + 1; i <= kKeys; ++i) CreateOnce(Key(i));

  std::vector<std::string> expected;
  for (int i = 1; i <= kKeys; ++i) expected.push_back(Key(i));
  EXPECT_TRUE(Eventually([&] { return printed().size() >= kKeys; })) << watcher.Output();
  EXPECT_EQ(printed(), expected);
  std::vector<JsonResponse> responses = ParseJsonLines(watcher.Output());
  ASSERT_FALSE(responses.empty());
  EXPECT_NE(MemberIndex(responses.back().member_id), serving) << "the watch did not move";
}

// The raftkv tool watches through the first endpoint it is given; `stop` takes that member
// away halfway through the writes, and the tool must carry on from the next endpoint.
void WatchTest::ResumeAfter(const std::function<void()>& stop, const std::string& name) {
  StartCluster();
  const int64_t start = Revision() + 1;
  BackgroundCommand watcher(absl::StrCat(RAFTKV_CLI_PATH, " watch n/ --prefix --rev ", start,
                                         " --endpoints ", cluster_->Endpoints()),
                            OutputPath(name));
  auto printed = [&] {
    std::vector<std::string> keys;
    std::istringstream lines(watcher.Output());
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind("n/", 0) == 0) keys.push_back(line);
    }
    return keys;
  };
  for (int i = 1; i <= kKeys / 2; ++i) CreateOnce(Key(i));
  ASSERT_TRUE(Eventually([&] { return printed().size() >= kKeys / 2; })) << watcher.Output();
  stop();
  for (int i = kKeys / 2 + 1; i <= kKeys; ++i) CreateOnce(Key(i));
  std::vector<std::string> expected;
  for (int i = 1; i <= kKeys; ++i) expected.push_back(Key(i));
  EXPECT_TRUE(Eventually([&] { return printed().size() >= kKeys; })) << watcher.Output();
  EXPECT_EQ(printed(), expected);
  EXPECT_THAT(watcher.Output(), ::testing::HasSubstr("resuming at revision"));
  last_output_ = watcher.Output();
}

TEST_F(WatchTest, RaftkvWatchResumesOnTheNextEndpointAfterAKill) {
  ResumeAfter([&] { cluster_->Kill(0); }, "after-kill");
}

TEST_F(WatchTest, AStoppingMemberEndsItsWatchesWithServerStoppedAndTheyResumeElsewhere) {
  ResumeAfter([&] { ASSERT_TRUE(cluster_->Stop(0).ok()); }, "after-sigterm");
  EXPECT_THAT(last_output_, ::testing::HasSubstr("etcdserver: server stopped"));
}

}  // namespace
}  // namespace raftkv::process_test
