// A member started with etcd's --listen-metrics-urls answers the HTTP endpoints monitoring built
// for etcd scrapes: /health, /version and /metrics with etcd's metric names.
#include <httplib.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "local_cluster.h"
#include "process_test_util.h"

namespace raftkv::process_test {
namespace {

using ::testing::HasSubstr;

class MetricsTest : public ClusterTest {};

// The value of the sample line that starts with `series` (name and labels), or -1.
double Sample(const std::string& exposition, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(exposition, '\n')) {
    if (!absl::StartsWith(line, series + " ")) continue;
    double value = -1;
    if (absl::SimpleAtod(line.substr(series.size() + 1), &value)) return value;
  }
  return -1;
}

TEST_F(MetricsTest, HealthVersionAndMetricsWithEtcdsNames) {
  absl::StatusOr<std::vector<int>> ports = cli::PickFreePorts(3);
  ASSERT_TRUE(ports.ok()) << ports.status();
  const std::string client = absl::StrCat("http://127.0.0.1:", (*ports)[0]);
  const std::string peer = absl::StrCat("http://127.0.0.1:", (*ports)[1]);
  const int metrics_port = (*ports)[2];
  const std::string pid_file = data_dir_ + "/pid";
  CommandResult started = RunCommand(absl::StrCat(
      RAFTKV_SERVER_PATH, " --name m1 --data-dir ", data_dir_, "/m1 --listen-client-urls ", client,
      " --advertise-client-urls ", client, " --listen-peer-urls ", peer,
      " --initial-advertise-peer-urls ", peer, " --initial-cluster m1=", peer,
      " --listen-metrics-urls http://127.0.0.1:", metrics_port, " > ", data_dir_,
      "/m1.log 2>&1 & echo $! > ", pid_file));
  ASSERT_EQ(started.exit_code, 0) << started.output;

  httplib::Client http("127.0.0.1", metrics_port);
  // Healthy once it leads itself: a leader, and a quorum read through raft that succeeds.
  EXPECT_TRUE(Eventually([&] {
    auto health = http.Get("/health");
    return health && health->status == 200 && health->body == R"({"health":"true"})";
  }));
  ASSERT_EQ(Etcdctl("put k v", client).exit_code, 0);

  auto version = http.Get("/version");
  ASSERT_TRUE(version);
  EXPECT_EQ(version->body, R"({"etcdserver":"3.4.0","etcdcluster":"3.4.0"})");

  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  const std::string& text = metrics->body;
  EXPECT_EQ(Sample(text, "etcd_server_has_leader"), 1);
  EXPECT_EQ(Sample(text, "etcd_server_is_leader"), 1);
  EXPECT_GE(Sample(text, "etcd_server_leader_changes_seen_total"), 1);
  EXPECT_GE(Sample(text, "etcd_server_proposals_applied_total"), 1);
  EXPECT_EQ(Sample(text, "etcd_server_proposals_pending"), 0);
  EXPECT_GT(Sample(text, "etcd_mvcc_db_total_size_in_bytes"), 0);
  // The put was fsynced by the WAL and counted by gRPC's interceptor.
  EXPECT_GE(Sample(text, "etcd_disk_wal_fsync_duration_seconds_count"), 1);
  EXPECT_GE(Sample(text, "grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Put\","
                         "grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"}"),
            1);
  EXPECT_THAT(text, HasSubstr("# TYPE grpc_server_handling_seconds histogram\n"));
  EXPECT_GE(Sample(text, "etcd_server_health_success"), 1);
  // raftkv's own: the put went through one proposal batch and one Ready that persisted it,
  // and etcdctl's linearizable get through a ReadIndex round.
  ASSERT_EQ(Etcdctl("get k", client).exit_code, 0);
  const std::string after_get = http.Get("/metrics")->body;
  EXPECT_GE(Sample(after_get, "raftkv_proposal_batch_writes_count"), 1);
  EXPECT_GE(Sample(after_get, "raftkv_ready_entries_persisted_count"), 1);
  EXPECT_GE(Sample(after_get, "raftkv_ready_entries_applied_count"), 1);
  EXPECT_GE(Sample(after_get, "raftkv_read_index_rounds_total"), 1);
  EXPECT_GE(Sample(after_get, "raftkv_read_index_round_reads_count"), 1);

  EXPECT_EQ(RunCommand("kill $(cat " + pid_file + ")").exit_code, 0);
}

// Every member times round trips to each of its peers, as etcd's
// etcd_network_peer_round_trip_time_seconds{To="<peer id>"} does.
TEST_F(MetricsTest, EachMemberTimesRoundTripsToItsPeers) {
  absl::StatusOr<std::vector<int>> ports = cli::PickFreePorts(3);
  ASSERT_TRUE(ports.ok()) << ports.status();
  metrics_ports_ = *ports;
  StartCluster();
  ASSERT_EQ(Etcdctl("put k v").exit_code, 0);
  for (int member = 0; member < 3; ++member) {
    httplib::Client http("127.0.0.1", metrics_ports_[member]);
    // Peers with at least one timed round trip (a probe every 5 s).
    auto peers_timed = [&] {
      auto metrics = http.Get("/metrics");
      if (!metrics) return 0;
      int peers = 0;
      const std::string prefix = "etcd_network_peer_round_trip_time_seconds_count{To=\"";
      for (absl::string_view line : absl::StrSplit(metrics->body, '\n')) {
        if (!absl::StartsWith(line, prefix)) continue;
        double count = 0;
        const size_t space = line.rfind(' ');
        if (absl::SimpleAtod(line.substr(space + 1), &count) && count >= 1) ++peers;
      }
      return peers;
    };
    EXPECT_TRUE(Eventually([&] { return peers_timed() == 2; })) << "member " << member;
  }
}

}  // namespace
}  // namespace raftkv::process_test
