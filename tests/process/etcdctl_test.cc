// etcdctl (Debian's, API v3) against a three-member raftkv cluster: every command the issue
// names, against every member, with its output checked.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "process_test_util.h"

namespace raftkv::process_test {
namespace {

using ::testing::HasSubstr;

class EtcdctlTest : public ClusterTest {};

TEST_F(EtcdctlTest, PutOnEveryMemberIsReadBackFromEveryMember) {
  StartCluster();
  for (int w = 0; w < 3; ++w) {
    const std::string key = absl::StrCat("key-from-", cluster_->name(w));
    CommandResult put = Etcdctl(absl::StrCat("put ", key, " value-", w), cluster_->endpoint(w));
    ASSERT_EQ(put.exit_code, 0) << put.output;
    EXPECT_EQ(put.output, "OK\n");
    for (int r = 0; r < 3; ++r) {
      CommandResult get = Etcdctl("get " + key, cluster_->endpoint(r));
      ASSERT_EQ(get.exit_code, 0) << get.output;
      EXPECT_EQ(get.output, absl::StrCat(key, "\nvalue-", w, "\n")) << "read from " << r;
    }
  }
}

TEST_F(EtcdctlTest, GetWithPrefixKeysOnlyLimitAndJson) {
  StartCluster();
  for (const char* kv :
       {"fruit/apple red", "fruit/banana yellow", "fruit/cherry dark", "veg/kale green"}) {
    ASSERT_EQ(Etcdctl(absl::StrCat("put ", kv)).exit_code, 0);
  }
  for (int m = 0; m < 3; ++m) {
    const std::string ep = cluster_->endpoint(m);
    CommandResult prefix = Etcdctl("get fruit/ --prefix", ep);
    ASSERT_EQ(prefix.exit_code, 0) << prefix.output;
    EXPECT_EQ(prefix.output, "fruit/apple\nred\nfruit/banana\nyellow\nfruit/cherry\ndark\n");
    CommandResult keys = Etcdctl("get fruit/ --prefix --keys-only", ep);
    ASSERT_EQ(keys.exit_code, 0) << keys.output;
    EXPECT_THAT(keys.output, HasSubstr("fruit/banana"));
    EXPECT_THAT(keys.output, ::testing::Not(HasSubstr("yellow")));
    CommandResult limit = Etcdctl("get fruit/ --prefix --limit=2", ep);
    ASSERT_EQ(limit.exit_code, 0) << limit.output;
    EXPECT_EQ(limit.output, "fruit/apple\nred\nfruit/banana\nyellow\n");
    CommandResult json = Etcdctl("get fruit/ --prefix --limit=2 -w json", ep);
    ASSERT_EQ(json.exit_code, 0) << json.output;
    EXPECT_THAT(json.output, HasSubstr("\"count\":3"));
    EXPECT_THAT(json.output, HasSubstr("\"more\":true"));
    EXPECT_THAT(json.output, HasSubstr("\"cluster_id\":"));
    // Keys and values are base64 in etcdctl's JSON: "fruit/apple" is ZnJ1aXQvYXBwbGU=.
    EXPECT_THAT(json.output, HasSubstr("ZnJ1aXQvYXBwbGU="));
  }
}

TEST_F(EtcdctlTest, DelWithPrevKvPrintsTheDeletedPair) {
  StartCluster();
  for (int m = 0; m < 3; ++m) {
    const std::string ep = cluster_->endpoint(m);
    const std::string key = absl::StrCat("doomed-", m);
    ASSERT_EQ(Etcdctl(absl::StrCat("put ", key, " last-words"), ep).exit_code, 0);
    CommandResult del = Etcdctl(absl::StrCat("del --prev-kv ", key), ep);
    ASSERT_EQ(del.exit_code, 0) << del.output;
    EXPECT_EQ(del.output, absl::StrCat("1\n", key, "\nlast-words\n"));
    CommandResult again = Etcdctl(absl::StrCat("del ", key), ep);
    EXPECT_EQ(again.output, "0\n");
  }
}

TEST_F(EtcdctlTest, TxnTakesTheBranchItsComparesChoose) {
  StartCluster();
  ASSERT_EQ(Etcdctl("put flag on").exit_code, 0);
  for (int m = 0; m < 3; ++m) {
    const std::string ep = cluster_->endpoint(m);
    // Non-interactive txn reads compares, success ops and failure ops from stdin, separated
    // by blank lines.
    CommandResult hit = RunCommand(absl::StrCat(
        "printf 'value(\"flag\") = \"on\"\\n\\nput result yes-", m,
        "\\n\\nput result no\\n\\n' | ETCDCTL_API=3 /usr/bin/etcdctl --endpoints=", ep, " txn"));
    ASSERT_EQ(hit.exit_code, 0) << hit.output;
    EXPECT_EQ(hit.output, "SUCCESS\n\nOK\n");
    EXPECT_EQ(Etcdctl("get result --print-value-only", ep).output, absl::StrCat("yes-", m, "\n"));
    CommandResult miss = RunCommand(
        absl::StrCat("printf 'value(\"flag\") = \"off\"\\n\\nput result yes\\n\\nget flag\\n\\n' | "
                     "ETCDCTL_API=3 /usr/bin/etcdctl --endpoints=",
                     ep, " txn"));
    ASSERT_EQ(miss.exit_code, 0) << miss.output;
    EXPECT_EQ(miss.output, "FAILURE\n\nflag\non\n");
  }
}

TEST_F(EtcdctlTest, EndpointStatusHealthAndMemberListDescribeTheCluster) {
  StartCluster();
  CommandResult status = Etcdctl("endpoint status");
  ASSERT_EQ(status.exit_code, 0) << status.output;
  int leaders = 0;
  for (int m = 0; m < 3; ++m) {
    EXPECT_THAT(status.output, HasSubstr(cluster_->endpoint(m) + ", "));
  }
  for (size_t pos = 0; (pos = status.output.find(", true, ", pos)) != std::string::npos; ++pos) {
    ++leaders;
  }
  EXPECT_EQ(leaders, 1) << status.output;

  CommandResult health = Etcdctl("endpoint health");
  ASSERT_EQ(health.exit_code, 0) << health.output;
  for (int m = 0; m < 3; ++m) {
    EXPECT_THAT(health.output, HasSubstr(cluster_->endpoint(m) + " is healthy"));
  }

  // Client URLs are learnt when members publish their attributes; wait for all three.
  for (int m = 0; m < 3; ++m) {
    CommandResult list;
    EXPECT_TRUE(Eventually([&] {
      list = Etcdctl("member list", cluster_->endpoint(m));
      if (list.exit_code != 0) return false;
      for (int k = 0; k < 3; ++k) {
        if (!absl::StrContains(
                list.output, absl::StrCat(", started, ", cluster_->name(k), ", ",
                                          cluster_->peer_url(k), ", ", cluster_->client_url(k)))) {
          return false;
        }
      }
      return true;
    })) << list.output;
  }
}

}  // namespace
}  // namespace raftkv::process_test
