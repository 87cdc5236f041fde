#include "bench_options.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "key_generator.h"

namespace raftkv::bench {

const char* WorkloadName(Workload workload) {
  switch (workload) {
    case Workload::kPut:
      return "put";
    case Workload::kRange:
      return "range";
    case Workload::kTxnPut:
      return "txn-put";
    case Workload::kMix:
      return "mix";
  }
  return "?";
}

void DeclareFlags(CLI::App& app, BenchOptions* options) {
  app.require_subcommand(1);
  // General flags are declared on the app; fallthrough lets them follow the subcommand too
  // (`raftkv-bench put --total 1000`).
  app.fallthrough();
  app.add_option("--endpoints", options->endpoints_flag, "comma-separated host:port list")
      ->capture_default_str();
  app.add_option("--clients", options->clients, "concurrent requests in flight")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--conns", options->conns, "gRPC connections the clients are spread over")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--key-size", options->key_size, "bytes per key")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--val-size", options->val_size, "bytes per value written")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 24));
  app.add_option("--key-space", options->key_space, "keys are drawn from this many")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_flag("--sequential-keys", options->sequential_keys,
               "take keys in order 0, 1, 2, ... instead of at random");
  CLI::Option* total =
      app.add_option("--total", options->total,
                     "requests to send (default " + std::to_string(kDefaultTotal) + ")")
          ->check(CLI::PositiveNumber);
  CLI::Option* duration =
      app.add_option("--duration", options->duration_s, "run for this many seconds instead")
          ->check(CLI::PositiveNumber);
  total->excludes(duration);
  app.add_option("--request-timeout", options->request_timeout_s,
                 "seconds before a request counts as DEADLINE_EXCEEDED")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--seed", options->seed, "seed for keys, values and the read/write mix")
      ->capture_default_str();
  app.add_option("--json", options->json_path,
                 "also write the report as JSON to FILE (- for stdout, the summary then goes "
                 "to stderr)");
  app.add_flag("--no-progress", options->no_progress, "no progress bar");
  app.add_flag("--no-sessions", options->no_sessions,
               "send writes without raftkv's client-session metadata and do not retry them "
               "(by default a write that fails UNAVAILABLE or DEADLINE_EXCEEDED is sent again "
               "with the same sequence, so it applies once)");

  const auto consistency_flag = [options](CLI::App* sub) {
    sub->add_option_function<std::string>(
           "--consistency",
           [options](const std::string& value) { options->serializable = value == "s"; },
           "l: linearizable (default), s: serializable")
        ->check(CLI::IsMember({"l", "s"}));
  };
  const auto workload = [&app, options](const char* name, const char* help, Workload w) {
    CLI::App* sub = app.add_subcommand(name, help);
    sub->callback([options, w] { options->workload = w; });
    return sub;
  };
  workload("put", "Put one key per request", Workload::kPut);
  consistency_flag(workload("range", "Range of one key per request", Workload::kRange));
  workload("txn-put", "Txn whose success branch puts --txn-ops keys", Workload::kTxnPut)
      ->add_option("--txn-ops", options->txn_ops,
                   "Puts per Txn, on consecutive keys (a bulk load in batches)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  CLI::App* mix = workload("mix", "Ranges and Puts mixed at random", Workload::kMix);
  consistency_flag(mix);
  mix->add_option("--read-ratio", options->read_ratio, "share of requests that are reads")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
}

absl::Status ValidateOptions(BenchOptions* options) {
  options->endpoints.clear();
  for (absl::string_view endpoint :
       absl::StrSplit(options->endpoints_flag, ',', absl::SkipWhitespace())) {
    endpoint = absl::StripAsciiWhitespace(endpoint);
    // etcd's tools take URLs; gRPC wants host:port.
    if (!absl::ConsumePrefix(&endpoint, "http://")) absl::ConsumePrefix(&endpoint, "https://");
    if (!absl::StrContains(endpoint, ':')) {
      return absl::InvalidArgumentError(
          absl::StrCat("--endpoints: '", endpoint, "' is not host:port"));
    }
    options->endpoints.emplace_back(endpoint);
  }
  if (options->endpoints.empty()) {
    return absl::InvalidArgumentError("--endpoints: no endpoint given");
  }
  if (options->conns > options->clients) {
    return absl::InvalidArgumentError(
        absl::StrCat("--conns ", options->conns, " is more than --clients ", options->clients,
                     ": some connections would carry no requests"));
  }
  if (!KeyGenerator::KeySpaceFits(options->key_space, options->key_size)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--key-space ", options->key_space, " needs keys longer than --key-size ",
        options->key_size, " (keys are the numbers 0..key-space-1 in decimal)"));
  }
  if (options->total == 0 && options->duration_s == 0) options->total = kDefaultTotal;
  return absl::OkStatus();
}

}  // namespace raftkv::bench
