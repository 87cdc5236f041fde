#include "latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>

namespace raftkv::bench {
namespace {

// Values below kSubBuckets take one bucket each; then 64 - kSubBucketBits powers of two with
// kSubBuckets buckets each.
constexpr int kBucketCount =
    static_cast<int>(LatencyHistogram::kSubBuckets) +
    (64 - LatencyHistogram::kSubBucketBits) * static_cast<int>(LatencyHistogram::kSubBuckets);

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(kBucketCount, 0) {}

int LatencyHistogram::BucketIndex(uint64_t value) {
  if (value < kSubBuckets) return static_cast<int>(value);
  // value lies in [2^e, 2^(e+1)); its top kSubBucketBits + 1 bits pick the bucket.
  const int e = std::bit_width(value) - 1;
  const int shift = e - kSubBucketBits;
  const uint64_t sub = (value >> shift) - kSubBuckets;  // in [0, kSubBuckets)
  return static_cast<int>(kSubBuckets) + shift * static_cast<int>(kSubBuckets) +
         static_cast<int>(sub);
}

uint64_t LatencyHistogram::BucketLow(int index) {
  assert(index >= 0 && index < kBucketCount);
  if (index < static_cast<int>(kSubBuckets)) return static_cast<uint64_t>(index);
  const int shift = (index - static_cast<int>(kSubBuckets)) / static_cast<int>(kSubBuckets);
  const uint64_t sub =
      static_cast<uint64_t>((index - static_cast<int>(kSubBuckets)) % kSubBuckets);
  return (kSubBuckets + sub) << shift;
}

uint64_t LatencyHistogram::BucketHigh(int index) {
  if (index + 1 == kBucketCount) return UINT64_MAX;
  return BucketLow(index + 1) - 1;
}

void LatencyHistogram::Record(uint64_t value) {
  ++counts_[BucketIndex(value)];
  ++count_;
  sum_ += value;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

double LatencyHistogram::mean() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_);
}

uint64_t LatencyHistogram::ValueAtPercentile(double percentile) const {
  assert(percentile >= 0 && percentile <= 100);
  if (count_ == 0) return 0;
  // The rank of the value asked for, 1-based: p50 of 10 values is the 5th, p100 the 10th.
  const uint64_t rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(percentile / 100.0 * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (int i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      // The middle of the bucket halves the worst-case error against either edge.
      const uint64_t low = BucketLow(i);
      const uint64_t middle = low + (BucketHigh(i) - low) / 2;
      return std::clamp(middle, min(), max_);
    }
  }
  return max_;
}

}  // namespace raftkv::bench
