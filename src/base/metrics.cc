#include "base/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace raftkv::base {
namespace {

bool ValidName(const std::string& name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  return true;
}

// HELP text escapes backslash and newline; label values also escape the double quote.
std::string Escape(const std::string& text, bool quote) {
  std::string escaped;
  for (char c : text) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '\n') {
      escaped += "\\n";
    } else if (quote && c == '"') {
      escaped += "\\\"";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

// `{a="1",b="2"}`, or nothing for no labels; `extra` (a histogram's `le`) goes last.
std::string LabelText(const MetricLabels& labels, const std::string& extra = "") {
  if (labels.empty() && extra.empty()) return "";
  std::string text = "{";
  bool first = true;
  for (const auto& [name, value] : labels) {
    absl::StrAppend(&text, first ? "" : ",", name, "=\"", Escape(value, true), "\"");
    first = false;
  }
  if (!extra.empty()) absl::StrAppend(&text, first ? "" : ",", extra);
  return text + "}";
}

const char* TypeName(int type) {
  switch (type) {
    case 0:
      return "counter";
    case 1:
      return "gauge";
    default:
      return "histogram";
  }
}

}  // namespace

std::string FormatSampleValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Most samples are integers (indexes, counts): print them exactly.
  if (value == std::floor(value) && std::fabs(value) < 9.0e15) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  // The shortest text that reads back as the same double, as Prometheus' own clients print.
  char buffer[64];
  const std::to_chars_result result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      buckets_(new std::atomic<uint64_t>[upper_bounds_.size() + 1]) {
  for (size_t i = 0; i + 1 < upper_bounds_.size(); ++i) {
    RAFTKV_CHECK(upper_bounds_[i] < upper_bounds_[i + 1], "histogram bounds must increase");
  }
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double value) {
  // The first bound at or above the value ("le" is inclusive).
  const size_t bucket =
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin();
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot snapshot;
  snapshot.upper_bounds = upper_bounds_;
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    snapshot.cumulative_counts.push_back(cumulative);
  }
  // Scraped while observations land, count and the +Inf bucket may differ by a few; report the
  // bucket total as the count so that the exposition is self-consistent.
  snapshot.count = cumulative;
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  RAFTKV_CHECK(start > 0 && factor > 1 && count > 0, "bad exponential buckets");
  std::vector<double> bounds;
  double bound = start;
  for (int i = 0; i < count; ++i, bound *= factor) bounds.push_back(bound);
  return bounds;
}

Registry::Family& Registry::FamilyFor(const std::string& name, const std::string& help,
                                      Type type) {
  RAFTKV_CHECK(ValidName(name), "bad metric name ", name);
  auto [it, inserted] = families_.try_emplace(name);
  if (inserted) {
    it->second.type = type;
    it->second.help = help;
  }
  RAFTKV_CHECK(it->second.type == type && it->second.help == help,
               "metric ", name, " registered twice with different type or help");
  return it->second;
}

Counter* Registry::GetCounter(const std::string& name, const std::string& help,
                              const MetricLabels& labels) {
  absl::MutexLock lock(&mu_);
  auto& slot = FamilyFor(name, help, Type::kCounter).counters[labels];
  if (slot == nullptr) slot = std::make_unique<Counter>();
  return slot.get();
}

Histogram* Registry::GetHistogram(const std::string& name, const std::string& help,
                                  const std::vector<double>& upper_bounds,
                                  const MetricLabels& labels) {
  absl::MutexLock lock(&mu_);
  auto& slot = FamilyFor(name, help, Type::kHistogram).histograms[labels];
  if (slot == nullptr) slot = std::make_unique<Histogram>(upper_bounds);
  return slot.get();
}

void Registry::AddGauge(const std::string& name, const std::string& help,
                        std::function<double()> read, const MetricLabels& labels) {
  absl::MutexLock lock(&mu_);
  FamilyFor(name, help, Type::kGauge).readers[labels] = std::move(read);
}

void Registry::AddCounterFunction(const std::string& name, const std::string& help,
                                  std::function<double()> read, const MetricLabels& labels) {
  absl::MutexLock lock(&mu_);
  FamilyFor(name, help, Type::kCounter).readers[labels] = std::move(read);
}

std::string Registry::Exposition() const {
  // Gauge functions run under the registry's lock; they are cheap reads of published values.
  absl::MutexLock lock(&mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    absl::StrAppend(&out, "# HELP ", name, " ", Escape(family.help, false), "\n", "# TYPE ", name,
                    " ", TypeName(static_cast<int>(family.type)), "\n");
    for (const auto& [labels, counter] : family.counters) {
      absl::StrAppend(&out, name, LabelText(labels), " ", counter->value(), "\n");
    }
    for (const auto& [labels, read] : family.readers) {
      absl::StrAppend(&out, name, LabelText(labels), " ", FormatSampleValue(read()), "\n");
    }
    for (const auto& [labels, histogram] : family.histograms) {
      const Histogram::Snapshot s = histogram->Read();
      for (size_t i = 0; i <= s.upper_bounds.size(); ++i) {
        const std::string le =
            i < s.upper_bounds.size() ? FormatSampleValue(s.upper_bounds[i]) : "+Inf";
        absl::StrAppend(&out, name, "_bucket", LabelText(labels, "le=\"" + le + "\""), " ",
                        s.cumulative_counts[i], "\n");
      }
      absl::StrAppend(&out, name, "_sum", LabelText(labels), " ", FormatSampleValue(s.sum), "\n",
                      name, "_count", LabelText(labels), " ", s.count, "\n");
    }
  }
  return out;
}

}  // namespace raftkv::base
