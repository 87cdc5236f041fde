// One benchmark client: keeps exactly one etcd request in flight on a gRPC completion queue and
// issues the next one when the worker thread hands it the completion of the last. No thread
// of its own; the request messages are built once and only their key changes, so a request
// costs one ClientContext and gRPC's own per-call work.
//
// Writes (Put, the Txn's Puts) go in a client session of the client's own (a random id; one
// write in flight, as a session requires): each carries the session's next sequence, and one that
// fails UNAVAILABLE or DEADLINE_EXCEEDED is sent again with the same sequence after a pause (a
// gRPC alarm on the same queue), up to the retry policy's attempts, so it applies once. Latency
// runs from the first attempt to the last answer. --no-sessions sends plain etcd writes.
//
// Thread-safety: driven by the one worker thread that polls its completion queue.
#pragma once

#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/rand.h"
#include "bench_options.h"
#include "client_session.h"
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
  // Handles the completion tagged `this`: a finished call, or the end of a retry's pause. True
  // while the request is still under way (a retry was scheduled or sent); false once it is
  // counted, and the worker may StartNext.
  bool OnCompletion(Clock::time_point now);

 private:
  enum class Kind { kPut, kRange, kTxnPut };
  Kind NextKind();
  // Sends the current request (kind_, with tag_ when it is a write in a session).
  void Send();
  bool InSession() const { return sessions_ && kind_ != Kind::kRange; }

  const Workload workload_;
  const double read_ratio_;
  const gpr_timespec request_timeout_;
  etcdserverpb::KV::Stub* const stub_;
  grpc::CompletionQueue* const cq_;
  KeyGenerator keys_;
  base::Rand rand_;  // for the read/write mix
  RunControl* const control_;
  WorkerStats* const stats_;

  const bool sessions_;
  const cli::RetryPolicy retry_policy_;
  cli::ClientSession session_;

  // The request in flight. A ClientContext serves one call only, hence the optional.
  std::optional<grpc::ClientContext> context_;
  grpc::Status status_;
  Clock::time_point started_;
  Kind kind_ = Kind::kPut;
  cli::SessionTag tag_;
  int attempt_ = 0;
  // Set while waiting out the pause before a retry.
  grpc::Alarm retry_alarm_;
  bool pausing_ = false;
  etcdserverpb::PutRequest put_;
  etcdserverpb::PutResponse put_reply_;
  etcdserverpb::RangeRequest range_;
  etcdserverpb::RangeResponse range_reply_;
  etcdserverpb::TxnRequest txn_;
  std::vector<etcdserverpb::PutRequest*> txn_puts_;  // inside txn_
  etcdserverpb::TxnResponse txn_reply_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::PutResponse>> put_call_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::RangeResponse>> range_call_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::TxnResponse>> txn_call_;
};

}  // namespace raftkv::bench
