// One benchmark client: keeps exactly one etcd request in flight on a gRPC completion queue and
// issues the next one when the worker thread hands it the completion of the last. No thread
// of its own; the request messages are built once and only their key changes, so a request
// costs one ClientContext and gRPC's own per-call work.
//
// Thread-safety: driven by the one worker thread that polls its completion queue.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

#include "base/rand.h"
#include "bench_options.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "key_generator.h"
#include "run_state.h"

namespace raftkv::bench {

class BenchClient {
 public:
  // REQUIRES: stub, cq, control and stats outlive the client.
  BenchClient(const BenchOptions& options, etcdserverpb::KV::Stub* stub,
              grpc::CompletionQueue* cq, KeyGenerator keys, const std::string& value,
              uint64_t seed, RunControl* control, WorkerStats* stats);
  BenchClient(const BenchClient&) = delete;
  BenchClient& operator=(const BenchClient&) = delete;

  // Issues the next request, tagged with `this`, unless the run is over. False: this client
  // is done and will see no more completions.
  bool StartNext(Clock::time_point now);
  // Counts the request that just completed (its tag was `this`).
  void OnCompletion(Clock::time_point now);

 private:
  enum class Kind { kPut, kRange, kTxnPut };
  Kind NextKind();

  const Workload workload_;
  const double read_ratio_;
  const gpr_timespec request_timeout_;
  etcdserverpb::KV::Stub* const stub_;
  grpc::CompletionQueue* const cq_;
  KeyGenerator keys_;
  base::Rand rand_;  // for the read/write mix
  RunControl* const control_;
  WorkerStats* const stats_;

  // The request in flight. A ClientContext serves one call only, hence the optional.
  std::optional<grpc::ClientContext> context_;
  grpc::Status status_;
  Clock::time_point started_;
  etcdserverpb::PutRequest put_;
  etcdserverpb::PutResponse put_reply_;
  etcdserverpb::RangeRequest range_;
  etcdserverpb::RangeResponse range_reply_;
  etcdserverpb::TxnRequest txn_;
  etcdserverpb::PutRequest* txn_put_;  // inside txn_
  etcdserverpb::TxnResponse txn_reply_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::PutResponse>> put_call_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::RangeResponse>> range_call_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::TxnResponse>> txn_call_;
};

}  // namespace raftkv::bench
