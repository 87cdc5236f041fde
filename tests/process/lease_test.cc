// Leases through Debian's etcdctl against a three-member raftkv cluster: grant, put --lease,
// timetolive --keys, list, keep-alive --once, revoke deleting the key, and expiry deleting it
// on every member; keep-alives and TTL queries sent to a member that does not lead, which
// forwards them to the leader.
#include <regex>

#include "absl/strings/str_cat.h"
#include "process_test_util.h"

namespace raftkv::process_test {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

class LeaseTest : public ClusterTest {
 protected:
  // `etcdctl lease grant ttl` against `endpoint`; the lease id in etcdctl's hex form.
  std::string Grant(int ttl, const std::string& endpoint) {
    CommandResult grant = Etcdctl(absl::StrCat("lease grant ", ttl), endpoint);
    EXPECT_EQ(grant.exit_code, 0) << grant.output;
    std::smatch match;
    static const std::regex kGranted("lease ([0-9a-f]{16}) granted with TTL\\((\\d+)s\\)\n");
    if (!std::regex_match(grant.output, match, kGranted)) {
      ADD_FAILURE() << "unexpected grant output: " << grant.output;
      return "";
    }
    return match[1];
  }
};

TEST_F(LeaseTest, EtcdctlGrantsAttachesListsKeepsAliveAndRevokes) {
  StartCluster();
  const std::string leader = cluster_->endpoint(WaitForLeader());
  const std::string id = Grant(60, leader);
  ASSERT_FALSE(id.empty());

  CommandResult put = Etcdctl(absl::StrCat("put leased-key some-value --lease=", id), leader);
  ASSERT_EQ(put.exit_code, 0) << put.output;
  EXPECT_EQ(put.output, "OK\n");

  CommandResult ttl = Etcdctl(absl::StrCat("lease timetolive ", id, " --keys"), leader);
  ASSERT_EQ(ttl.exit_code, 0) << ttl.output;
  EXPECT_THAT(ttl.output, MatchesRegex(absl::StrCat("lease ", id,
                                                    " granted with TTL\\(60s\\), remaining\\(5[0-9]s"
                                                    "\\), attached keys\\(\\[leased-key\\]\\)\n")));

  // Every member knows the lease once it applied the grant: it is replicated state.
  for (int m = 0; m < 3; ++m) {
    std::string output;
    EXPECT_TRUE(Eventually([&] {
      output = Etcdctl("lease list", cluster_->endpoint(m)).output;
      return output == absl::StrCat("found 1 leases\n", id, "\n");
    })) << "member " << m << ": " << output;
  }

  CommandResult keep = Etcdctl(absl::StrCat("lease keep-alive --once ", id), leader);
  ASSERT_EQ(keep.exit_code, 0) << keep.output;
  EXPECT_EQ(keep.output, absl::StrCat("lease ", id, " keepalived with TTL(60)\n"));

  CommandResult revoke = Etcdctl(absl::StrCat("lease revoke ", id), leader);
  ASSERT_EQ(revoke.exit_code, 0) << revoke.output;
  EXPECT_EQ(revoke.output, absl::StrCat("lease ", id, " revoked\n"));
  for (int m = 0; m < 3; ++m) {
    CommandResult get = Etcdctl("get leased-key", cluster_->endpoint(m));
    ASSERT_EQ(get.exit_code, 0) << get.output;
    EXPECT_EQ(get.output, "") << "member " << m;
  }
  CommandResult gone = Etcdctl(absl::StrCat("lease timetolive ", id), leader);
  EXPECT_EQ(gone.output, absl::StrCat("lease ", id, " already expired\n"));
}

TEST_F(LeaseTest, KeepAliveAndTimeToLiveOnAFollowerAreAnsweredByTheLeader) {
  StartCluster();
  const int leader = WaitForLeader();
  const std::string id = Grant(60, cluster_->endpoint(leader));
  ASSERT_FALSE(id.empty());
  for (int m = 0; m < 3; ++m) {
    if (m == leader) continue;
    CommandResult keep =
        Etcdctl(absl::StrCat("lease keep-alive --once ", id), cluster_->endpoint(m));
    EXPECT_EQ(keep.exit_code, 0) << keep.output;
    EXPECT_EQ(keep.output, absl::StrCat("lease ", id, " keepalived with TTL(60)\n"))
        << "member " << m;
    CommandResult ttl = Etcdctl(absl::StrCat("lease timetolive ", id), cluster_->endpoint(m));
    EXPECT_EQ(ttl.exit_code, 0) << ttl.output;
    EXPECT_THAT(ttl.output, MatchesRegex(absl::StrCat(
                                "lease ", id,
                                " granted with TTL\\(60s\\), remaining\\((5[0-9]|60)s\\)\n")))
        << "member " << m << " (just kept alive)";
  }
  // With every endpoint given, clientv3 may pick any member.
  CommandResult keep = Etcdctl(absl::StrCat("lease keep-alive --once ", id));
  EXPECT_EQ(keep.exit_code, 0) << keep.output;
  EXPECT_EQ(keep.output, absl::StrCat("lease ", id, " keepalived with TTL(60)\n"));
}

TEST_F(LeaseTest, AnExpiredLeaseDeletesItsKeysOnEveryMember) {
  StartCluster();
  // Below the minimum TTL (1.5 election timeouts = 2 s here): raised to it, as etcd does.
  const std::string leader = cluster_->endpoint(WaitForLeader());
  CommandResult grant = Etcdctl("lease grant 1", leader);
  ASSERT_EQ(grant.exit_code, 0) << grant.output;
  EXPECT_THAT(grant.output, HasSubstr("granted with TTL(2s)"));
  const std::string id = grant.output.substr(6, 16);
  ASSERT_EQ(Etcdctl(absl::StrCat("put short-lived v --lease=", id), leader).exit_code, 0);
  ASSERT_EQ(Etcdctl("put unleased v", leader).exit_code, 0);
  // A member that has the later put applied the leased one before it.
  EXPECT_TRUE(Eventually([&] {
    for (int m = 0; m < 3; ++m) {
      if (LocalValue(m, "unleased") != "v") return false;
    }
    return true;
  }));

  EXPECT_TRUE(Eventually([&] {
    for (int m = 0; m < 3; ++m) {
      if (LocalValue(m, "short-lived") != "") return false;
    }
    return true;
  })) << "the expired lease's key is still there";
  EXPECT_EQ(Etcdctl("lease list", leader).output, "found 0 leases\n");
}

}  // namespace
}  // namespace raftkv::process_test
