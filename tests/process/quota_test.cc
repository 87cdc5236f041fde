// The space quota and automatic compaction with real members and etcdctl: a member past
// --quota-backend-bytes refuses writes with "database space exceeded" and raises NOSPACE, which
// etcd's recovery (compact, defrag, alarm disarm) clears; revision-mode auto-compaction keeps the
// last N revisions, compacted by the leader alone.
#include <fstream>
#include <regex>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "process_test_util.h"

namespace raftkv::process_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class QuotaTest : public ClusterTest {
 protected:
  // The store revision in the header of `etcdctl get KEY -w json`; -1 when unreadable.
  int64_t CurrentRevision(const std::string& key) {
    const std::string json = Etcdctl("get " + key + " -w json").output;
    std::smatch match;
    if (!std::regex_search(json, match, std::regex("\"revision\":([0-9]+)"))) return -1;
    return std::stoll(match[1]);
  }

  std::string MemberLog(int i) {
    std::ifstream in(cluster_->log_path(i));
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
};

TEST_F(QuotaTest, PastTheQuotaWritesAreRefusedUntilCompactDefragAndAlarmDisarm) {
  extra_server_args_ = {"--quota-backend-bytes=16384"};
  StartCluster();
  const std::string value(1000, 'x');
  // Every put adds a version of the same key: history that compaction can free.
  int accepted = 0;
  CommandResult refused;
  for (; accepted < 100; ++accepted) {
    refused = Etcdctl("put k " + value);
    if (refused.exit_code != 0) break;
  }
  ASSERT_GT(accepted, 3) << refused.output;
  ASSERT_LT(accepted, 100) << "no put was refused";
  EXPECT_THAT(refused.output, HasSubstr("etcdserver: mvcc: database space exceeded"));

  // The alarm is replicated: every member lists it and refuses writes.
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(Eventually([&] {
      return absl::StrContains(Etcdctl("alarm list", cluster_->endpoint(i)).output,
                               "alarm:NOSPACE");
    })) << "member "
        << i;
    EXPECT_THAT(Etcdctl("put small x", cluster_->endpoint(i)).output,
                HasSubstr("database space exceeded"))
        << "member " << i;
  }
  // Reads and deletes still work.
  EXPECT_THAT(Etcdctl("get k --print-value-only").output, HasSubstr(value));
  EXPECT_THAT(Etcdctl("del nothing-here").output, HasSubstr("0"));

  // etcd's recovery: compact the history away, defragment, disarm.
  const int64_t revision = CurrentRevision("k");
  ASSERT_GT(revision, accepted);
  EXPECT_THAT(Etcdctl(absl::StrCat("compact ", revision)).output,
              HasSubstr(absl::StrCat("compacted revision ", revision)));
  EXPECT_THAT(Etcdctl("defrag").output, HasSubstr("Finished defragmenting etcd member"));
  // Room again, but the alarm still stands until it is disarmed.
  EXPECT_THAT(Etcdctl("put small x").output, HasSubstr("database space exceeded"));
  CommandResult disarmed = Etcdctl("alarm disarm");
  EXPECT_EQ(disarmed.exit_code, 0) << disarmed.output;
  EXPECT_THAT(disarmed.output, HasSubstr("alarm:NOSPACE"));
  EXPECT_THAT(Etcdctl("alarm list").output, Not(HasSubstr("NOSPACE")));

  CommandResult put = Etcdctl("put small x");
  EXPECT_EQ(put.exit_code, 0) << put.output;
  EXPECT_THAT(Etcdctl("get small --print-value-only").output, HasSubstr("x"));
  EXPECT_THAT(Etcdctl("get k --rev 2").output, HasSubstr("required revision has been compacted"));
}

TEST_F(QuotaTest, RevisionAutoCompactionKeepsTheLastRevisionsAndOnlyTheLeaderCompacts) {
  // etcd checks every 5 minutes; the hidden option shortens that for the test.
  extra_server_args_ = {"--auto-compaction-mode",
                        "revision",
                        "--auto-compaction-retention",
                        "10",
                        "--auto-compaction-revision-interval",
                        "200ms"};
  StartCluster();
  const int leader = WaitForLeader();
  CommandResult wrote = RunCommand(absl::StrCat(
      "for i in $(seq 1 30); do ETCDCTL_API=3 /usr/bin/etcdctl --endpoints=", cluster_->Endpoints(),
      " put k v$i > /dev/null || exit 1; done"));
  ASSERT_EQ(wrote.exit_code, 0) << wrote.output;
  const int64_t revision = CurrentRevision("k");
  ASSERT_GE(revision, 31);

  EXPECT_TRUE(Eventually([&] {
    return absl::StrContains(Etcdctl("get k --rev 5").output,
                             "required revision has been compacted");
  }));
  // The last ten revisions are kept.
  EXPECT_THAT(Etcdctl(absl::StrCat("get k --print-value-only --rev ", revision - 5)).output,
              HasSubstr(absl::StrCat("v", revision - 6)));

  ASSERT_EQ(WaitForLeader(), leader) << "leadership moved; cannot tell who compacted";
  EXPECT_THAT(MemberLog(leader), HasSubstr("finished auto-compaction at revision"));
  for (int i = 0; i < 3; ++i) {
    if (i == leader) continue;
    EXPECT_THAT(MemberLog(i), Not(HasSubstr("auto-compaction at revision"))) << "member " << i;
  }
}

}  // namespace
}  // namespace raftkv::process_test
