// raftkv-bench against a real server: every request of each workload succeeds, the JSON report
// says so, and the keys the put workload wrote are there afterwards. One member rather than
// three keeps each test within a few seconds; what is tested is the tool, not replication.
// Then, on three members whose followers are paused for a while: the put workload's timed-out
// writes are retried in their sessions and each key is written once; with --no-sessions the same
// pause leaves writes that failed at the client but applied anyway, which is what the retries of
// the first run would have applied a second time without sessions.
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "process_test_util.h"

namespace raftkv::process_test {
namespace {

using ::testing::HasSubstr;

// The value of a number field of the bench's JSON report ("key": N), or -1.
int64_t JsonNumber(const std::string& json, const std::string& key) {
  const std::string field = "\"" + key + "\": ";
  const size_t at = json.find(field);
  if (at == std::string::npos) return -1;
  return std::stoll(json.substr(at + field.size()));
}

class BenchToolTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    size_ = 1;
  }

  // Runs raftkv-bench with `args` against every member; returns its JSON report.
  std::string Bench(const std::string& args) {
    const std::string json_path = absl::StrCat(data_dir_, "/report.json");
    CommandResult run =
        RunCommand(absl::StrCat(RAFTKV_BENCH_PATH, " ", args, " --endpoints ",
                                cluster_->Endpoints(), " --no-progress --json ", json_path));
    EXPECT_EQ(run.exit_code, 0) << run.output;
    std::ifstream file(json_path);
    std::stringstream json;
    json << file.rdbuf();
    return json.str();
  }
};

TEST_F(BenchToolTest, PutAndRangeSucceedEveryRequestAndPutsLeaveTheirKeys) {
  StartCluster();
  // 200 sequential keys from a key space of 200: keys 00000000..00000199, each written once,
  // by 8 clients over two connections.
  const std::string put = Bench(
      "put --total 200 --clients 8 --conns 2 --sequential-keys --key-space 200 "
      "--key-size 8 --val-size 16");
  EXPECT_THAT(put, HasSubstr("\"workload\": \"put\""));
  EXPECT_THAT(put, HasSubstr("\"successes\": 200,"));
  EXPECT_THAT(put, HasSubstr("\"errors\": 0,"));
  EXPECT_THAT(put, HasSubstr("\"client_cpu_us_per_request\": "));

  cli::EtcdClient client(cluster_->endpoint(0));
  absl::StatusOr<etcdserverpb::RangeResponse> written = client.Get("00000000", "00000200");
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(written->count(), 200);
  ASSERT_EQ(written->kvs_size(), 200);
  EXPECT_EQ(written->kvs(199).key(), "00000199");
  EXPECT_EQ(written->kvs(199).value().size(), 16u);

  const std::string range =
      Bench("range --total 200 --clients 8 --conns 2 --key-space 200 --key-size 8");
  EXPECT_THAT(range, HasSubstr("\"consistency\": \"l\""));
  EXPECT_THAT(range, HasSubstr("\"successes\": 200,"));
  EXPECT_THAT(range, HasSubstr("\"errors\": 0,"));
}

TEST_F(BenchToolTest, TxnPutWithManyOpsWritesConsecutiveKeysInEachTxn) {
  StartCluster();
  cli::EtcdClient client(cluster_->endpoint(0));
  const int64_t before = client.Get("any")->header().revision();
  // 10 txns of 30 puts: keys 000..299, each written once, one revision per txn.
  const std::string load = Bench(
      "txn-put --txn-ops 30 --total 10 --clients 2 --sequential-keys --key-space 300 "
      "--key-size 3 --val-size 4");
  EXPECT_THAT(load, HasSubstr("\"txn_ops\": 30"));
  EXPECT_THAT(load, HasSubstr("\"successes\": 10,"));
  EXPECT_GT(JsonNumber(load, "puts_per_second"), 0) << load;
  absl::StatusOr<etcdserverpb::RangeResponse> written = client.Get("000", "300");
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(written->count(), 300);
  EXPECT_EQ(written->header().revision() - before, 10);
  for (const mvccpb::KeyValue& kv : written->kvs()) EXPECT_EQ(kv.version(), 1) << kv.key();

  // More puts in one txn than the server's --max-txn-ops (128) fail with etcd's error.
  const std::string too_many = Bench("txn-put --txn-ops 129 --total 1 --key-space 300 --key-size 3");
  EXPECT_THAT(too_many, HasSubstr("\"INVALID_ARGUMENT\": 1"));
}

TEST_F(BenchToolTest, SerializableRangeTxnPutAndMixSucceedEveryRequest) {
  StartCluster();
  const std::string serializable = Bench("range --consistency s --total 100 --clients 4");
  EXPECT_THAT(serializable, HasSubstr("\"consistency\": \"s\""));
  EXPECT_THAT(serializable, HasSubstr("\"successes\": 100,"));
  const std::string txn = Bench("txn-put --total 100 --clients 4");
  EXPECT_THAT(txn, HasSubstr("\"workload\": \"txn-put\""));
  EXPECT_THAT(txn, HasSubstr("\"successes\": 100,"));
  const std::string mix = Bench("mix --read-ratio 0.5 --total 100 --clients 4");
  EXPECT_THAT(mix, HasSubstr("\"read_ratio\": 0.5"));
  EXPECT_THAT(mix, HasSubstr("\"successes\": 100,"));
}

class BenchRetryTest : public ClusterTest {
 protected:
  // Runs the put workload (`writes` sequential keys, 4 clients, 0.3 s per attempt) against the
  // leader while the followers are paused for 0.7 s, so that the first attempts time out with
  // their proposals in the leader's log; returns the JSON report and how far the store revision
  // moved.
  std::pair<std::string, int64_t> PutThroughAPause(int writes, const std::string& extra_flags) {
    const int leader = WaitForLeader();
    cli::EtcdClient client(cluster_->endpoint(leader));
    const int64_t before = client.Get("any")->header().revision();
    const std::string json_path = absl::StrCat(data_dir_, "/retry.json");
    std::optional<PausedFollowers> paused(std::in_place, *cluster_, leader);
    BackgroundCommand bench(
        absl::StrCat(RAFTKV_BENCH_PATH, " put --total ", writes, " --clients 4",
                     " --sequential-keys --key-space ", writes, " --key-size 8 --val-size 8",
                     " --request-timeout 0.3 --no-progress --json ", json_path, " --endpoints ",
                     cluster_->endpoint(leader), " ", extra_flags),
        absl::StrCat(data_dir_, "/bench.out"));
    absl::SleepFor(absl::Milliseconds(700));
    paused.reset();
    std::string json;
    EXPECT_TRUE(Eventually(
        [&] {
          std::ifstream file(json_path);
          std::stringstream text;
          text << file.rdbuf();
          json = text.str();
          return json.find("worker_threads") != std::string::npos;
        },
        absl::Seconds(60)))
        << bench.Output();
    return {json, client.Get("any")->header().revision() - before};
  }
};

TEST_F(BenchRetryTest, TimedOutPutsAreRetriedInTheirSessionsAndEachKeyIsWrittenOnce) {
  StartCluster();
  const auto [json, revisions] = PutThroughAPause(100, "");
  EXPECT_THAT(json, HasSubstr("\"sessions\": true"));
  EXPECT_EQ(JsonNumber(json, "successes"), 100) << json;
  EXPECT_GT(JsonNumber(json, "retries"), 0) << json;
  EXPECT_EQ(revisions, 100) << "some put applied more than once";
}

TEST_F(BenchRetryTest, WithoutSessionsPutsThatFailedAtTheClientStillApplied) {
  StartCluster();
  const auto [json, revisions] = PutThroughAPause(100, "--no-sessions");
  EXPECT_THAT(json, HasSubstr("\"sessions\": false"));
  // No retries: the timed-out puts are errors, but their proposals still applied.
  EXPECT_EQ(JsonNumber(json, "retries"), 0) << json;
  EXPECT_GT(JsonNumber(json, "errors"), 0) << json;
  EXPECT_GT(revisions, JsonNumber(json, "successes"));
}

}  // namespace
}  // namespace raftkv::process_test
