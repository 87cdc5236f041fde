// Crashes and restarts of real raftkv-server processes.
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "process_test_util.h"

namespace raftkv::process_test {
namespace {

class FaultsTest : public ClusterTest {
 protected:
  // Puts through any running member, retrying while an election settles; true once acked.
  bool PutSomewhere(const std::string& key, const std::string& value) {
    return Eventually(
        [&] {
          for (int i = 0; i < cluster_->size(); ++i) {
            if (!cluster_->running(i)) continue;
            cli::EtcdClient client(cluster_->endpoint(i), absl::Seconds(3));
            if (client.Put(key, value).ok()) return true;
          }
          return false;
        },
        absl::Seconds(30));
  }

  std::string ReadLog(int i) {
    std::ifstream in(cluster_->log_path(i));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
};

TEST_F(FaultsTest, KillingTheLeaderElectsANewOneAndWritesSucceedAgain) {
  StartCluster();
  const int old_leader = WaitForLeader();
  ASSERT_GE(old_leader, 0);
  ASSERT_TRUE(PutSomewhere("before", "1"));
  cluster_->Kill(old_leader);
  const int new_leader = WaitForLeader();
  ASSERT_GE(new_leader, 0);
  EXPECT_NE(new_leader, old_leader);
  ASSERT_TRUE(PutSomewhere("after", "2"));
  CommandResult get = Etcdctl("get after --print-value-only", cluster_->endpoint(new_leader));
  EXPECT_EQ(get.output, "2\n");
}

TEST_F(FaultsTest, ARestartedMemberCatchesUp) {
  StartCluster();
  const int victim = (WaitForLeader() + 1) % 3;  // a follower
  cluster_->Kill(victim);
  for (int k = 0; k < 20; ++k) ASSERT_TRUE(PutSomewhere(absl::StrCat("k", k), "v"));
  ASSERT_TRUE(cluster_->Start(victim).ok());
  EXPECT_TRUE(Eventually([&] { return LocalValue(victim, "k19") == "v"; }));
  EXPECT_EQ(LocalValue(victim, "k0"), "v");
}

TEST_F(FaultsTest, AMemberThatMissedACompactedStretchCatchesUpBySnapshot) {
  StartCluster(/*snapshot_count=*/20);
  const int victim = (WaitForLeader() + 1) % 3;
  cluster_->Kill(victim);
  // Far more entries than the snapshot interval and the entries kept behind a snapshot, so
  // the leader's log no longer reaches back to where the victim stopped.
  for (int k = 0; k < 150; ++k) ASSERT_TRUE(PutSomewhere(absl::StrCat("s", k), "v"));
  ASSERT_TRUE(cluster_->Start(victim).ok());
  EXPECT_TRUE(Eventually([&] { return LocalValue(victim, "s149") == "v"; }));
  EXPECT_EQ(LocalValue(victim, "s0"), "v");
  EXPECT_TRUE(absl::StrContains(ReadLog(victim), "restored the state from a snapshot"))
      << "the victim caught up from the log instead of a snapshot";
  // The state is on disk (the default engine): it came as the files of a checkpoint.
  EXPECT_TRUE(absl::StrContains(ReadLog(victim), "as a checkpoint of"))
      << "the snapshot did not travel as a checkpoint";
}

TEST_F(FaultsTest, AFullClusterRestartKeepsEveryAcknowledgedWrite) {
  StartCluster();
  WaitForLeader();
  std::vector<std::string> acknowledged;
  for (int k = 0; k < 30; ++k) {
    const std::string key = absl::StrCat("durable/", k);
    if (PutSomewhere(key, absl::StrCat(k))) acknowledged.push_back(key);
  }
  ASSERT_EQ(acknowledged.size(), 30u);
  // A crash of every member at once: only what reached the disk survives.
  for (int i = 0; i < 3; ++i) cluster_->Kill(i);
  ASSERT_TRUE(cluster_->StartAll().ok());
  WaitForLeader();
  for (int m = 0; m < 3; ++m) {
    // A leader needs two members; the third may still be replaying its log.
    CommandResult get;
    EXPECT_TRUE(Eventually([&] {
      get = Etcdctl("get durable/ --prefix --keys-only", cluster_->endpoint(m));
      return get.exit_code == 0;
    })) << "member " << m << ": " << get.output;
    for (const std::string& key : acknowledged) {
      EXPECT_TRUE(absl::StrContains(get.output, key + "\n")) << key << " lost on " << m;
    }
  }
}

TEST_F(FaultsTest, SigtermStopsAMemberCleanly) {
  StartCluster();
  for (int i = 0; i < 3; ++i) {
    absl::Status s = cluster_->Stop(i);
    EXPECT_TRUE(s.ok()) << s;
  }
}

}  // namespace
}  // namespace raftkv::process_test
