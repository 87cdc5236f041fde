// raftkv-bench against a real server: every request of each workload succeeds, the JSON report
// says so, and the keys the put workload wrote are there afterwards. One member rather than
// three keeps each test within a few seconds; what is tested is the tool, not replication.
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "process_test_util.h"

namespace raftkv::process_test {
namespace {

using ::testing::HasSubstr;

class BenchToolTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    size_ = 1;
  }

  // Runs raftkv-bench with `args` against every member; returns its JSON report.
  std::string Bench(const std::string& args) {
    const std::string json_path = absl::StrCat(data_dir_, "/report.json");
    CommandResult run = RunCommand(absl::StrCat(RAFTKV_BENCH_PATH, " ", args, " --endpoints ",
                                                cluster_->Endpoints(), " --no-progress --json ",
                                                json_path));
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
  const std::string put =
      Bench("put --total 200 --clients 8 --conns 2 --sequential-keys --key-space 200 "
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

}  // namespace
}  // namespace raftkv::process_test
