#include "report.h"

#include "fmt/format.h"
#include "json_writer.h"

namespace raftkv::bench {
namespace {

constexpr double kNsPerMs = 1e6;

struct Percentile {
  const char* human_name;
  const char* json_name;
  double percentile;
};
constexpr Percentile kPercentiles[] = {
    {"p50", "p50", 50}, {"p90", "p90", 90}, {"p99", "p99", 99}, {"p99.9", "p99_9", 99.9}};

double RequestsPerSecond(const RunResult& result) {
  return result.wall_s > 0 ? static_cast<double>(result.successes) / result.wall_s : 0;
}

// Puts per successful request: txn_ops for txn-put, one for put; mix and range have no fixed
// number.
int PutsPerRequest(const BenchOptions& options) {
  switch (options.workload) {
    case Workload::kPut:
      return 1;
    case Workload::kTxnPut:
      return options.txn_ops;
    case Workload::kRange:
    case Workload::kMix:
      return 0;
  }
  return 0;
}

double CpuMicrosecondsPerRequest(const RunResult& result) {
  return result.requests() > 0 ? result.cpu_s * 1e6 / static_cast<double>(result.requests()) : 0;
}

double Ms(uint64_t ns) { return static_cast<double>(ns) / kNsPerMs; }

bool ReadsAnything(Workload workload) {
  return workload == Workload::kRange || workload == Workload::kMix;
}

}  // namespace

const char* StatusCodeName(int code) {
  static constexpr const char* kNames[kStatusCodeCount] = {
      "OK",
      "CANCELLED",
      "UNKNOWN",
      "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED",
      "NOT_FOUND",
      "ALREADY_EXISTS",
      "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION",
      "ABORTED",
      "OUT_OF_RANGE",
      "UNIMPLEMENTED",
      "INTERNAL",
      "UNAVAILABLE",
      "DATA_LOSS",
      "UNAUTHENTICATED"};
  return code >= 0 && code < kStatusCodeCount ? kNames[code] : "?";
}

std::string HumanSummary(const BenchOptions& options, const RunResult& result) {
  std::string workload = WorkloadName(options.workload);
  if (ReadsAnything(options.workload)) {
    workload += options.serializable ? " (serializable)" : " (linearizable)";
  }
  if (options.workload == Workload::kMix) {
    workload += fmt::format(", {:.0f} % reads", options.read_ratio * 100);
  }
  if (options.workload == Workload::kTxnPut) {
    workload += fmt::format(", {} put{} per txn", options.txn_ops, options.txn_ops == 1 ? "" : "s");
  }
  std::string out = fmt::format("workload     {}, {} clients over {} connections\n", workload,
                                options.clients, options.conns);
  out += fmt::format("requests     {} ({} ok, {} failed)\n", result.requests(), result.successes,
                     result.errors());
  if (result.retries > 0) {
    out += fmt::format("retries      {} (same session sequence: each applied once)\n",
                       result.retries);
  }
  if (result.errors() > 0) {
    out += "errors      ";
    for (int code = 0; code < kStatusCodeCount; ++code) {
      if (result.errors_by_code[code] == 0) continue;
      out += fmt::format(" {} {}", StatusCodeName(code), result.errors_by_code[code]);
    }
    out += '\n';
  }
  out += fmt::format("duration     {:.3f} s\n", result.wall_s);
  out += fmt::format("throughput   {:.1f} req/s (successful requests)\n",
                     RequestsPerSecond(result));
  if (options.workload == Workload::kTxnPut && options.txn_ops > 1) {
    out += fmt::format("             {:.1f} puts/s\n",
                       RequestsPerSecond(result) * PutsPerRequest(options));
  }
  const LatencyHistogram& latency = result.latency_ns;
  out += fmt::format("latency ms   mean {:.3f}", latency.mean() / kNsPerMs);
  for (const Percentile& p : kPercentiles) {
    out += fmt::format("  {} {:.3f}", p.human_name, Ms(latency.ValueAtPercentile(p.percentile)));
  }
  out += fmt::format("  max {:.3f}\n", Ms(latency.max()));
  out += fmt::format("client CPU   {:.3f} s, {:.1f} us per request ({} worker threads)\n",
                     result.cpu_s, CpuMicrosecondsPerRequest(result), result.worker_threads);
  return out;
}

std::string JsonReport(const BenchOptions& options, const RunResult& result) {
  JsonWriter json;
  json.BeginObject();
  json.Key("workload");
  json.String(WorkloadName(options.workload));

  json.Key("options");
  json.BeginObject();
  json.Key("endpoints");
  json.BeginArray();
  for (const std::string& endpoint : options.endpoints) json.String(endpoint);
  json.EndArray();
  json.Key("clients");
  json.Number(int64_t{options.clients});
  json.Key("conns");
  json.Number(int64_t{options.conns});
  json.Key("key_size");
  json.Number(int64_t{options.key_size});
  json.Key("val_size");
  json.Number(int64_t{options.val_size});
  json.Key("key_space");
  json.Number(options.key_space);
  json.Key("sequential_keys");
  json.Bool(options.sequential_keys);
  if (ReadsAnything(options.workload)) {
    json.Key("consistency");
    json.String(options.serializable ? "s" : "l");
  }
  if (options.workload == Workload::kTxnPut) {
    json.Key("txn_ops");
    json.Number(int64_t{options.txn_ops});
  }
  if (options.workload == Workload::kMix) {
    json.Key("read_ratio");
    json.Number(options.read_ratio);
  }
  if (options.total > 0) {
    json.Key("total");
    json.Number(options.total);
  } else {
    json.Key("duration_s");
    json.Number(options.duration_s);
  }
  json.Key("seed");
  json.Number(options.seed);
  json.Key("sessions");
  json.Bool(!options.no_sessions);
  json.EndObject();

  json.Key("requests");
  json.Number(result.requests());
  json.Key("successes");
  json.Number(result.successes);
  json.Key("errors");
  json.Number(result.errors());
  json.Key("retries");
  json.Number(result.retries);
  json.Key("errors_by_status");
  json.BeginObject();
  for (int code = 0; code < kStatusCodeCount; ++code) {
    if (result.errors_by_code[code] == 0) continue;
    json.Key(StatusCodeName(code));
    json.Number(result.errors_by_code[code]);
  }
  json.EndObject();
  json.Key("duration_s");
  json.Number(result.wall_s);
  json.Key("requests_per_second");
  json.Number(RequestsPerSecond(result));
  if (PutsPerRequest(options) > 0) {
    json.Key("puts_per_second");
    json.Number(RequestsPerSecond(result) * PutsPerRequest(options));
  }

  const LatencyHistogram& latency = result.latency_ns;
  json.Key("latency_ms");
  json.BeginObject();
  json.Key("mean");
  json.Number(latency.mean() / kNsPerMs);
  json.Key("min");
  json.Number(Ms(latency.min()));
  for (const Percentile& p : kPercentiles) {
    json.Key(p.json_name);
    json.Number(Ms(latency.ValueAtPercentile(p.percentile)));
  }
  json.Key("max");
  json.Number(Ms(latency.max()));
  json.EndObject();

  json.Key("client_cpu_s");
  json.Number(result.cpu_s);
  json.Key("client_cpu_us_per_request");
  json.Number(CpuMicrosecondsPerRequest(result));
  json.Key("worker_threads");
  json.Number(int64_t{result.worker_threads});
  json.EndObject();
  return json.text() + "\n";
}

}  // namespace raftkv::bench
