#include "latency_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "base/rand.h"

namespace raftkv::bench {
namespace {

TEST(LatencyHistogramTest, EmptyHistogramReportsZeros) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
  EXPECT_EQ(h.ValueAtPercentile(50), 0u);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 100; ++v) h.Record(v);
  EXPECT_EQ(h.ValueAtPercentile(50), 50u);
  EXPECT_EQ(h.ValueAtPercentile(99), 99u);
  EXPECT_EQ(h.ValueAtPercentile(100), 100u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(LatencyHistogramTest, BucketsTileTheRangeWithoutGaps) {
  uint64_t expected_low = 0;
  for (int i = 0; i < LatencyHistogram::BucketIndex(UINT64_MAX); ++i) {
    ASSERT_EQ(LatencyHistogram::BucketLow(i), expected_low) << "bucket " << i;
    expected_low = LatencyHistogram::BucketHigh(i) + 1;
  }
  EXPECT_EQ(LatencyHistogram::BucketHigh(LatencyHistogram::BucketIndex(UINT64_MAX)),
            UINT64_MAX);
}

TEST(LatencyHistogramTest, EveryBucketIsWithinOnePercentOfItsValues) {
  base::Rand rand(7);
  for (int i = 0; i < 100000; ++i) {
    // Spread over all magnitudes: a random value with a random number of significant bits.
    const uint64_t value = rand.Next() >> rand.Uniform(64);
    const int bucket = LatencyHistogram::BucketIndex(value);
    const uint64_t low = LatencyHistogram::BucketLow(bucket);
    const uint64_t high = LatencyHistogram::BucketHigh(bucket);
    ASSERT_LE(low, value);
    ASSERT_GE(high, value);
    ASSERT_LE(static_cast<double>(high - low), 0.01 * static_cast<double>(value) + 1)
        << "value " << value;
  }
}

TEST(LatencyHistogramTest, PercentilesMatchSortedSamplesWithinOnePercent) {
  base::Rand rand(42);
  LatencyHistogram h;
  std::vector<uint64_t> samples;
  for (int i = 0; i < 50000; ++i) {
    // Latencies from 100 µs to ~100 ms in nanoseconds, skewed towards the low end.
    const uint64_t v = 100'000 + rand.Uniform(1000) * rand.Uniform(100'000);
    samples.push_back(v);
    h.Record(v);
  }
  std::sort(samples.begin(), samples.end());
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    const uint64_t exact = samples[static_cast<size_t>(p / 100 * samples.size()) - 1];
    const uint64_t got = h.ValueAtPercentile(p);
    EXPECT_NEAR(static_cast<double>(got), static_cast<double>(exact), 0.01 * exact)
        << "p" << p;
  }
  EXPECT_EQ(h.ValueAtPercentile(100), samples.back());
  EXPECT_EQ(h.max(), samples.back());
  EXPECT_EQ(h.min(), samples.front());
}

TEST(LatencyHistogramTest, MergeEqualsRecordingEverythingInOne) {
  LatencyHistogram a, b, all;
  for (uint64_t v = 0; v < 5000; v += 3) {
    (v % 2 == 0 ? a : b).Record(v * 997);
    all.Record(v * 997);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_DOUBLE_EQ(a.mean(), all.mean());
  for (double p : {0.0, 50.0, 99.0, 100.0}) {
    EXPECT_EQ(a.ValueAtPercentile(p), all.ValueAtPercentile(p));
  }
}

TEST(LatencyHistogramTest, MergingAnEmptyHistogramKeepsMinimum) {
  LatencyHistogram a, empty;
  a.Record(500);
  a.Merge(empty);
  EXPECT_EQ(a.min(), 500u);
  EXPECT_EQ(a.count(), 1u);
}

}  // namespace
}  // namespace raftkv::bench
