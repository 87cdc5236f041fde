// A latency histogram in the style of HdrHistogram: log-linear buckets with a fixed relative
// precision, so memory stays bounded (about 60 KiB) whatever the range of values, and any
// percentile is known to within 1 % of the true value.
//
// Values are unsigned integers in any unit (the benchmark records nanoseconds). Values below
// kSubBuckets are counted exactly; above that, every power of two [2^e, 2^(e+1)) is split into
// kSubBuckets equal buckets, each at most 1/kSubBuckets (0.8 %) of the values it holds wide.
//
// Thread-safety: not thread-safe. Each thread records into its own histogram; Merge() them
// once the threads are done.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace raftkv::bench {

class LatencyHistogram {
 public:
  // 2^7 = 128 linear buckets per power of two: relative bucket width <= 1/128.
  static constexpr int kSubBucketBits = 7;
  static constexpr uint64_t kSubBuckets = uint64_t{1} << kSubBucketBits;

  LatencyHistogram();

  void Record(uint64_t value);
  // Adds every value recorded in `other`.
  void Merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  // 0 when empty, like min() and max().
  double mean() const;
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }

  // The value below or at which `percentile` % of the recorded values lie, within the
  // bucket's precision and never outside [min(), max()]. 0 when empty.
  // REQUIRES: 0 <= percentile <= 100.
  uint64_t ValueAtPercentile(double percentile) const;

  // The bucket a value falls into, and the range [BucketLow, BucketHigh] a bucket covers;
  // public so that the precision can be tested.
  static int BucketIndex(uint64_t value);
  static uint64_t BucketLow(int index);
  static uint64_t BucketHigh(int index);

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  // Sum of the values for the exact mean; 64 bits hold 584 years of nanoseconds.
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace raftkv::bench
