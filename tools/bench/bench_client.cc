#include "bench_client.h"

#include <utility>

namespace raftkv::bench {

BenchClient::BenchClient(const BenchOptions& options, etcdserverpb::KV::Stub* stub,
                         grpc::CompletionQueue* cq, KeyGenerator keys, const std::string& value,
                         uint64_t seed, RunControl* control, WorkerStats* stats)
    : workload_(options.workload),
      read_ratio_(options.read_ratio),
      // A relative deadline: gRPC adds it to its own clock, so no clock read here.
      request_timeout_(gpr_time_from_nanos(static_cast<int64_t>(options.request_timeout_s * 1e9),
                                           GPR_TIMESPAN)),
      stub_(stub),
      cq_(cq),
      keys_(std::move(keys)),
      rand_(seed),
      control_(control),
      stats_(stats) {
  put_.set_value(value);
  range_.set_serializable(options.serializable);
  // No comparisons: the success branch always runs, as a Txn that guards a write would when
  // its guard holds.
  txn_put_ = txn_.add_success()->mutable_request_put();
  txn_put_->set_value(value);
}

BenchClient::Kind BenchClient::NextKind() {
  switch (workload_) {
    case Workload::kPut:
      return Kind::kPut;
    case Workload::kRange:
      return Kind::kRange;
    case Workload::kTxnPut:
      return Kind::kTxnPut;
    case Workload::kMix:
      return rand_.Bernoulli(read_ratio_) ? Kind::kRange : Kind::kPut;
  }
  return Kind::kPut;
}

bool BenchClient::StartNext(Clock::time_point now) {
  if (!control_->TakeRequest(now)) return false;
  context_.emplace();
  context_->set_deadline(request_timeout_);
  started_ = now;
  switch (NextKind()) {
    case Kind::kPut:
      keys_.Next(put_.mutable_key());
      put_call_ = stub_->AsyncPut(&*context_, put_, cq_);
      put_call_->Finish(&put_reply_, &status_, this);
      break;
    case Kind::kRange:
      keys_.Next(range_.mutable_key());
      range_call_ = stub_->AsyncRange(&*context_, range_, cq_);
      range_call_->Finish(&range_reply_, &status_, this);
      break;
    case Kind::kTxnPut:
      keys_.Next(txn_put_->mutable_key());
      txn_call_ = stub_->AsyncTxn(&*context_, txn_, cq_);
      txn_call_->Finish(&txn_reply_, &status_, this);
      break;
  }
  return true;
}

void BenchClient::OnCompletion(Clock::time_point now) {
  if (status_.ok()) {
    ++stats_->successes;
    stats_->latency_ns.Record(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(now - started_).count()));
  } else {
    ++stats_->errors_by_code[static_cast<size_t>(status_.error_code()) % kStatusCodeCount];
  }
  // Single writer: a plain load and store, not a locked read-modify-write.
  stats_->completed.store(stats_->completed.load(std::memory_order_relaxed) + 1,
                          std::memory_order_relaxed);
  // The readers live in the call's arena, which the context frees: drop them first.
  put_call_.reset();
  range_call_.reset();
  txn_call_.reset();
  context_.reset();
}

}  // namespace raftkv::bench
