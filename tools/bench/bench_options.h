// The flags of raftkv-bench: what to send, how much of it, and where the results go.
//
// DeclareFlags() puts the subcommands (one per workload) and flags on a CLI11 app, and
// ValidateOptions() checks what CLI11 cannot (flags that depend on each other) and fills in
// the derived fields. Kept apart from main() so that both can be tested without a server.
//
// Thread-safety: plain data; written while parsing, read-only afterwards.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"

namespace raftkv::bench {

enum class Workload {
  kPut,     // Put of one key
  kRange,   // Range of one key
  kTxnPut,  // Txn without comparisons whose success branch is txn_ops Puts
  kMix,     // Range with probability read_ratio, Put otherwise
};

// "put", "range", "txn-put", "mix".
const char* WorkloadName(Workload workload);

struct BenchOptions {
  Workload workload = Workload::kPut;
  std::string endpoints_flag = "127.0.0.1:2379";
  // host:port each, from endpoints_flag; filled by ValidateOptions().
  std::vector<std::string> endpoints;
  // Requests in flight at any time: each client keeps exactly one outstanding.
  int clients = 1;
  // gRPC channels (one TCP connection each); client i uses channel i % conns, and channel j
  // goes to endpoint j % endpoints.size().
  int conns = 1;
  int key_size = 8;
  int val_size = 256;
  // Keys are the numbers [0, key_space) written in decimal, zero-padded to key_size bytes.
  uint64_t key_space = 100000;
  bool sequential_keys = false;
  // Reads answer from the member's own copy (etcd's --consistency s) instead of ReadIndex.
  bool serializable = false;
  // Puts in each Txn of the txn-put workload, on consecutive keys of the key generator: a bulk
  // load in large batches, like etcd's `benchmark txn-put --txn-ops`. The server's
  // --max-txn-ops (128 by default, as in etcd) bounds it.
  int txn_ops = 1;
  // Share of reads in the mix workload.
  double read_ratio = 0.5;
  // Exactly one of the two bounds the run; ValidateOptions() sets total to kDefaultTotal when
  // neither flag was given.
  uint64_t total = 0;
  double duration_s = 0;
  double request_timeout_s = 10;
  // Plain etcd writes: no client session metadata, no retries (tools/cli/client_session.h).
  bool no_sessions = false;
  uint64_t seed = 1;
  // Where the JSON report goes: empty for nowhere, "-" for stdout.
  std::string json_path;
  bool no_progress = false;
};

inline constexpr uint64_t kDefaultTotal = 10000;

// Declares one subcommand per workload and every flag on `app`, writing into `*options`. The
// general flags may come before or after the subcommand.
void DeclareFlags(CLI::App& app, BenchOptions* options);

// Checks the flags against each other and fills in `endpoints` and the default `total`.
absl::Status ValidateOptions(BenchOptions* options);

}  // namespace raftkv::bench
