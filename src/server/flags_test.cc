#include "server/flags.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace raftkv::server {
namespace {

ServerFlags ThreeMembers() {
  ServerFlags f;
  f.name = "n2";
  f.listen_client_urls = "http://127.0.0.1:2379";
  f.advertise_client_urls = "http://127.0.0.1:2379";
  f.listen_peer_urls = "http://127.0.0.1:2380";
  f.initial_advertise_peer_urls = "http://127.0.0.1:2380";
  f.initial_cluster = "n1=http://127.0.0.1:1380,n2=http://127.0.0.1:2380,n3=http://127.0.0.1:3380";
  ApplyDerivedDefaults(&f);
  return f;
}

TEST(FlagsTest, EtcdDefaultsDescribeAOneMemberCluster) {
  ServerFlags f;
  ApplyDerivedDefaults(&f);
  EXPECT_EQ(f.data_dir, "default.etcd");
  EXPECT_EQ(f.initial_cluster, "default=http://localhost:2380");
  EXPECT_TRUE(ValidateFlags(f).ok()) << ValidateFlags(f);
}

TEST(FlagsTest, AConsistentThreeMemberCommandLineIsAccepted) {
  EXPECT_TRUE(ValidateFlags(ThreeMembers()).ok()) << ValidateFlags(ThreeMembers());
}

TEST(FlagsTest, AnHttpsClientUrlWithoutCertificateIsRefusedAsEtcdDoes) {
  ServerFlags f = ThreeMembers();
  f.listen_client_urls = "https://127.0.0.1:2379";
  EXPECT_EQ(ValidateFlags(f).message(),
            "TLS key/cert (--cert-file, --key-file) must be provided for client url "
            "https://127.0.0.1:2379 with HTTPS scheme");
  f.auto_tls = true;
  EXPECT_TRUE(ValidateFlags(f).ok()) << ValidateFlags(f);
  f.auto_tls = false;
  f.cert_file = "server.pem";
  f.key_file = "server.key";
  EXPECT_TRUE(ValidateFlags(f).ok()) << ValidateFlags(f);
}

TEST(FlagsTest, AnHttpsPeerUrlWithoutPeerCertificateIsRefused) {
  ServerFlags f = ThreeMembers();
  f.listen_peer_urls = "https://127.0.0.1:2380";
  f.cert_file = "client-side-only.pem";
  EXPECT_EQ(ValidateFlags(f).message(),
            "TLS key/cert (--peer-cert-file, --peer-key-file) must be provided for peer url "
            "https://127.0.0.1:2380 with HTTPS scheme");
  f.peer_auto_tls = true;
  EXPECT_TRUE(ValidateFlags(f).ok()) << ValidateFlags(f);
}

TEST(FlagsTest, ANameMissingFromTheInitialClusterIsRefusedWithTheFix) {
  ServerFlags f = ThreeMembers();
  f.name = "n4";
  absl::Status s = ValidateFlags(f);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'n4' is not in --initial-cluster"), std::string::npos) << s;
}

TEST(FlagsTest, AdvertisedPeerUrlsMustMatchTheInitialCluster) {
  ServerFlags f = ThreeMembers();
  f.initial_advertise_peer_urls = "http://127.0.0.1:9999";
  EXPECT_NE(ValidateFlags(f).message().find("--initial-advertise-peer-urls"), std::string::npos);
}

TEST(FlagsTest, ElectionTimeoutMustBeFiveHeartbeats) {
  ServerFlags f = ThreeMembers();
  f.heartbeat_interval_ms = 100;
  f.election_timeout_ms = 400;
  absl::Status s = ValidateFlags(f);
  EXPECT_NE(s.message().find("at least 5 times --heartbeat-interval"), std::string::npos) << s;
  f.election_timeout_ms = 500;
  EXPECT_TRUE(ValidateFlags(f).ok());
}

TEST(FlagsTest, BadUrlsNameTheirFlag) {
  ServerFlags f = ThreeMembers();
  f.listen_client_urls = "127.0.0.1:2379";
  EXPECT_NE(ValidateFlags(f).message().find("--listen-client-urls"), std::string::npos);
  f = ThreeMembers();
  f.initial_cluster = "n2=http://127.0.0.1:2380,n1=nonsense";
  EXPECT_NE(ValidateFlags(f).message().find("--initial-cluster"), std::string::npos);
}

TEST(FlagsTest, MetricsUrlsAreOptionalButMustBeUrls) {
  ServerFlags f = ThreeMembers();
  EXPECT_TRUE(f.listen_metrics_urls.empty());
  f.listen_metrics_urls = "http://127.0.0.1:2381,http://127.0.0.1:2382";
  EXPECT_TRUE(ValidateFlags(f).ok()) << ValidateFlags(f);
  f.listen_metrics_urls = "127.0.0.1:2381";
  absl::Status s = ValidateFlags(f);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--listen-metrics-urls"), std::string::npos) << s;
}

TEST(FlagsTest, ClusterStateAndLogLevelAreChecked) {
  ServerFlags f = ThreeMembers();
  f.initial_cluster_state = "fresh";
  EXPECT_FALSE(ValidateFlags(f).ok());
  f = ThreeMembers();
  f.log_level = "loud";
  EXPECT_FALSE(ValidateFlags(f).ok());
}

TEST(FlagsTest, RequestAndTxnLimitsMustBePositiveAndFitGrpc) {
  ServerFlags f = ThreeMembers();
  EXPECT_EQ(f.max_request_bytes, 1536 * 1024);  // etcd's defaults
  EXPECT_EQ(f.max_txn_ops, 128);
  f.max_request_bytes = 0;
  EXPECT_THAT(ValidateFlags(f).message(), ::testing::HasSubstr("--max-request-bytes"));
  f.max_request_bytes = int64_t{1} << 31;
  EXPECT_FALSE(ValidateFlags(f).ok());
  f = ThreeMembers();
  f.max_txn_ops = 0;
  EXPECT_THAT(ValidateFlags(f).message(), ::testing::HasSubstr("--max-txn-ops"));
}

TEST(FlagsTest, AutoCompactionIsOffByDefaultAndReadAsEtcdReadsIt) {
  ServerFlags f = ThreeMembers();
  auto off = AutoCompactionPolicyOf(f);
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_FALSE(off->has_value());

  f.auto_compaction_retention = "2";
  auto hours = AutoCompactionPolicyOf(f);
  ASSERT_TRUE(hours.ok() && hours->has_value()) << hours.status();
  EXPECT_EQ((*hours)->retention, absl::Hours(2));

  f.auto_compaction_mode = "revision";
  f.auto_compaction_retention = "10";
  f.auto_compaction_revision_interval = "200ms";
  auto revisions = AutoCompactionPolicyOf(f);
  ASSERT_TRUE(revisions.ok() && revisions->has_value()) << revisions.status();
  EXPECT_EQ((*revisions)->revisions, 10);
  EXPECT_EQ((*revisions)->revision_check_interval, absl::Milliseconds(200));
  EXPECT_TRUE(ValidateFlags(f).ok()) << ValidateFlags(f);
}

TEST(FlagsTest, WrongAutoCompactionValuesNameTheirFlag) {
  ServerFlags f = ThreeMembers();
  f.auto_compaction_mode = "daily";
  EXPECT_NE(ValidateFlags(f).message().find("--auto-compaction-mode"), std::string::npos);
  f = ThreeMembers();
  f.auto_compaction_retention = "a while";
  EXPECT_NE(ValidateFlags(f).message().find("--auto-compaction-retention"), std::string::npos);
  f = ThreeMembers();
  f.auto_compaction_retention = "1";
  f.auto_compaction_revision_interval = "0s";
  EXPECT_NE(ValidateFlags(f).message().find("--auto-compaction-revision-interval"),
            std::string::npos);
}

TEST(FlagsTest, SnapshotTransfersGetFiveMinutesAndKeepABrokenCheckpointFiveMinutesByDefault) {
  ServerFlags f = ThreeMembers();
  absl::StatusOr<SnapshotTransferTimes> times = SnapshotTransferTimesOf(f);
  ASSERT_TRUE(times.ok()) << times.status();
  EXPECT_EQ(times->send_timeout, absl::Minutes(5));
  EXPECT_EQ(times->keep_for, absl::Minutes(5));

  f.snapshot_send_timeout = "1h30m";
  f.snapshot_keep_for = "0s";  // keep nothing: every transfer starts over
  times = SnapshotTransferTimesOf(f);
  ASSERT_TRUE(times.ok()) << times.status();
  EXPECT_EQ(times->send_timeout, absl::Minutes(90));
  EXPECT_EQ(times->keep_for, absl::ZeroDuration());
  EXPECT_TRUE(ValidateFlags(f).ok()) << ValidateFlags(f);
}

TEST(FlagsTest, WrongSnapshotTransferTimesNameTheirFlag) {
  for (const char* value : {"0s", "-1m", "soon", "5", "inf"}) {
    ServerFlags f = ThreeMembers();
    f.snapshot_send_timeout = value;
    EXPECT_NE(ValidateFlags(f).message().find("--snapshot-send-timeout"), std::string::npos)
        << value;
  }
  for (const char* value : {"-1s", "later", "inf"}) {
    ServerFlags f = ThreeMembers();
    f.snapshot_keep_for = value;
    EXPECT_NE(ValidateFlags(f).message().find("--snapshot-keep-for"), std::string::npos)
        << value;
  }
}

TEST(FlagsTest, QuotaZeroIsEtcdsTwoGiBAndNegativeTurnsItOff) {
  ServerFlags f = ThreeMembers();
  EXPECT_EQ(QuotaBytesOf(f), int64_t{2} << 30);
  f.quota_backend_bytes = 4096;
  EXPECT_EQ(QuotaBytesOf(f), 4096);
  f.quota_backend_bytes = -1;
  EXPECT_EQ(QuotaBytesOf(f), 0);
}

TEST(FlagsTest, TwoMembersMayNotShareAPeerUrl) {
  ServerFlags f = ThreeMembers();
  f.initial_cluster = "n1=http://127.0.0.1:2380,n2=http://127.0.0.1:2380";
  EXPECT_NE(ValidateFlags(f).message().find("two members"), std::string::npos);
}

TEST(PlanClusterTest, EveryMemberComputesTheSameIds) {
  ServerFlags a = ThreeMembers();
  ServerFlags b = ThreeMembers();
  b.name = "n1";
  b.initial_advertise_peer_urls = "http://127.0.0.1:1380";
  absl::StatusOr<peerpb::ClusterFile> pa = PlanCluster(a);
  absl::StatusOr<peerpb::ClusterFile> pb = PlanCluster(b);
  ASSERT_TRUE(pa.ok() && pb.ok());
  EXPECT_EQ(pa->cluster_id(), pb->cluster_id());
  ASSERT_EQ(pa->members_size(), 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(pa->members(i).id(), pb->members(i).id());
  EXPECT_NE(pa->member_id(), pb->member_id());
}

TEST(PlanClusterTest, TheTokenSeparatesClusters) {
  ServerFlags a = ThreeMembers();
  ServerFlags b = ThreeMembers();
  b.initial_cluster_token = "other";
  EXPECT_NE(PlanCluster(a)->cluster_id(), PlanCluster(b)->cluster_id());
}

}  // namespace
}  // namespace raftkv::server
