// Process metrics: counters, gauges and histograms, written out in Prometheus' text exposition
// format (version 0.0.4), which is what etcd's /metrics serves and what monitoring built for
// etcd scrapes.
//
// A Registry owns every metric. Code that measures something holds a pointer to its Counter or
// Histogram (obtained once, at start-up) and updates it with a relaxed atomic operation, so
// recording costs no lock and no allocation on the hot path. Gauges are read when the registry is
// scraped, from a function that returns the current value (an index the node thread publishes,
// the store's size), so nothing has to push them.
//
// Series are identified by a family name and a label set, e.g.
//   grpc_server_handled_total{grpc_service="etcdserverpb.KV",grpc_method="Put",grpc_code="OK"}.
// Asking twice for the same series returns the same object; asking for a name already used with
// another type or help text is a programming error (RAFTKV_CHECK).
//
// Thread-safety: every method is thread-safe. Metric objects live as long as the registry.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace raftkv::base {

// Label name → value, sorted by name (Prometheus treats label order as insignificant; a sorted
// map makes equal sets compare equal).
using MetricLabels = std::map<std::string, std::string>;

class Counter {
 public:
  void Add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Observations counted into cumulative buckets with fixed upper bounds, plus their count and sum,
// as Prometheus histograms are.
class Histogram {
 public:
  // `upper_bounds` must be strictly increasing; a +Inf bucket is implied.
  explicit Histogram(std::vector<double> upper_bounds);

  void Observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<uint64_t> cumulative_counts;  // one per bound, then the +Inf bucket
    uint64_t count = 0;
    double sum = 0;
  };
  Snapshot Read() const;

 private:
  const std::vector<double> upper_bounds_;
  // Per-bucket (not cumulative) counts; the last is the +Inf bucket.
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Bucket bounds start, start*factor, ..., `count` of them (Prometheus' ExponentialBuckets).
std::vector<double> ExponentialBuckets(double start, double factor, int count);

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Counter* GetCounter(const std::string& name, const std::string& help,
                      const MetricLabels& labels = {});
  Histogram* GetHistogram(const std::string& name, const std::string& help,
                          const std::vector<double>& upper_bounds,
                          const MetricLabels& labels = {});
  // `read` is called at every scrape, from the scraping thread; it must be cheap and thread-safe.
  void AddGauge(const std::string& name, const std::string& help, std::function<double()> read,
                const MetricLabels& labels = {});
  // A counter kept elsewhere (an atomic another component already maintains), read at scrape
  // time like a gauge but exposed with the counter type. `read` must never decrease.
  void AddCounterFunction(const std::string& name, const std::string& help,
                          std::function<double()> read, const MetricLabels& labels = {});

  // Every family in name order, each series in label order.
  std::string Exposition() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Family {
    Type type;
    std::string help;
    std::map<MetricLabels, std::unique_ptr<Counter>> counters;
    std::map<MetricLabels, std::unique_ptr<Histogram>> histograms;
    // Gauges, and counters read from elsewhere.
    std::map<MetricLabels, std::function<double()>> readers;
  };
  Family& FamilyFor(const std::string& name, const std::string& help, Type type)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, Family> families_ ABSL_GUARDED_BY(mu_);
};

// The sample value as the exposition format spells it: integers without a fraction,
// +Inf/-Inf/NaN.
std::string FormatSampleValue(double value);

}  // namespace raftkv::base
