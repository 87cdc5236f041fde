// The registry's output is Prometheus' text exposition format 0.0.4: HELP and TYPE lines per
// family, one sample line per series, histograms as cumulative _bucket{le=...} series with _sum
// and _count.
#include "base/metrics.h"

#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace raftkv::base {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, ACounterIsOneFamilyWithHelpTypeAndSample) {
  Registry registry;
  Counter* changes = registry.GetCounter("etcd_server_leader_changes_seen_total",
                                         "The number of leader changes seen.");
  changes->Add();
  changes->Add(2);
  EXPECT_EQ(registry.Exposition(),
            "# HELP etcd_server_leader_changes_seen_total The number of leader changes seen.\n"
            "# TYPE etcd_server_leader_changes_seen_total counter\n"
            "etcd_server_leader_changes_seen_total 3\n");
}

TEST(MetricsTest, TheSameSeriesIsTheSameObjectAndLabelsMakeSeries) {
  Registry registry;
  const std::string help = "Total RPCs completed.";
  Counter* ok = registry.GetCounter("rpcs_total", help, {{"code", "OK"}, {"method", "Put"}});
  Counter* again = registry.GetCounter("rpcs_total", help, {{"method", "Put"}, {"code", "OK"}});
  Counter* failed =
      registry.GetCounter("rpcs_total", help, {{"method", "Put"}, {"code", "Unavailable"}});
  EXPECT_EQ(ok, again);
  EXPECT_NE(ok, failed);
  ok->Add();
  failed->Add(4);
  const std::string text = registry.Exposition();
  EXPECT_THAT(text, HasSubstr("rpcs_total{code=\"OK\",method=\"Put\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("rpcs_total{code=\"Unavailable\",method=\"Put\"} 4\n"));
}

TEST(MetricsTest, GaugesAreReadAtScrapeTime) {
  Registry registry;
  double applied = 7;
  registry.AddGauge("applied_index", "Applied.", [&] { return applied; });
  EXPECT_THAT(registry.Exposition(), HasSubstr("applied_index 7\n"));
  applied = 9;
  EXPECT_THAT(registry.Exposition(), HasSubstr("applied_index 9\n"));
}

TEST(MetricsTest, ACounterKeptElsewhereIsExposedAsACounter) {
  Registry registry;
  uint64_t changes = 2;
  registry.AddCounterFunction("changes_total", "Changes.", [&] { return changes; });
  EXPECT_EQ(registry.Exposition(),
            "# HELP changes_total Changes.\n# TYPE changes_total counter\nchanges_total 2\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeAndInclusive) {
  Registry registry;
  Histogram* fsync = registry.GetHistogram("fsync_seconds", "Fsync latency.", {0.001, 0.01, 0.1});
  fsync->Observe(0.001);  // le is inclusive: counts in the first bucket
  fsync->Observe(0.005);
  fsync->Observe(0.5);
  EXPECT_EQ(registry.Exposition(),
            "# HELP fsync_seconds Fsync latency.\n"
            "# TYPE fsync_seconds histogram\n"
            "fsync_seconds_bucket{le=\"0.001\"} 1\n"
            "fsync_seconds_bucket{le=\"0.01\"} 2\n"
            "fsync_seconds_bucket{le=\"0.1\"} 2\n"
            "fsync_seconds_bucket{le=\"+Inf\"} 3\n"
            "fsync_seconds_sum 0.506\n"
            "fsync_seconds_count 3\n");
}

TEST(MetricsTest, LabelValuesAndHelpAreEscaped) {
  Registry registry;
  registry.GetCounter("odd_total", "A \\ and a\nnewline.", {{"path", "a\"b\\c\nd"}})->Add();
  EXPECT_EQ(registry.Exposition(),
            "# HELP odd_total A \\\\ and a\\nnewline.\n"
            "# TYPE odd_total counter\n"
            "odd_total{path=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(MetricsTest, SampleValuesUseTheFormatsSpelling) {
  EXPECT_EQ(FormatSampleValue(42), "42");
  EXPECT_EQ(FormatSampleValue(0.25), "0.25");
  EXPECT_EQ(FormatSampleValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatSampleValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(FormatSampleValue(0.0 / 0.0), "NaN");
}

TEST(MetricsTest, ExponentialBucketsGrowByTheFactor) {
  EXPECT_EQ(ExponentialBuckets(0.001, 2, 4), (std::vector<double>{0.001, 0.002, 0.004, 0.008}));
}

TEST(MetricsTest, ConcurrentUpdatesAreAllCounted) {
  Registry registry;
  Counter* counter = registry.GetCounter("c_total", "c");
  Histogram* histogram = registry.GetHistogram("h", "h", {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        counter->Add();
        histogram->Observe(0.5);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter->value(), 40000u);
  EXPECT_EQ(histogram->Read().count, 40000u);
  EXPECT_EQ(histogram->Read().sum, 20000);
}

TEST(MetricsDeathTest, ANameReusedWithAnotherTypeIsAProgrammingError) {
  Registry registry;
  registry.GetCounter("x", "help");
  EXPECT_DEATH(registry.GetHistogram("x", "help", {1}), "registered twice");
}

}  // namespace
}  // namespace raftkv::base
