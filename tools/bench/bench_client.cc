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
      stats_(stats),
      sessions_(!options.no_sessions),
      retry_policy_{.max_attempts = 5,
                    .first_backoff = absl::Milliseconds(50),
                    .max_backoff = absl::Seconds(1)} {
  put_.set_value(value);
  range_.set_serializable(options.serializable);
  // No comparisons: the success branch always runs, as a Txn that guards a write would when
  // its guard holds.
  for (int i = 0; i < options.txn_ops; ++i) {
    txn_puts_.push_back(txn_.add_success()->mutable_request_put());
    txn_puts_.back()->set_value(value);
  }
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
  started_ = now;
  kind_ = NextKind();
  attempt_ = 0;
  switch (kind_) {
    case Kind::kPut:
      keys_.Next(put_.mutable_key());
      break;
    case Kind::kRange:
      keys_.Next(range_.mutable_key());
      break;
    case Kind::kTxnPut:
      for (etcdserverpb::PutRequest* put : txn_puts_) keys_.Next(put->mutable_key());
      break;
  }
  if (InSession()) tag_ = session_.NextWrite();
  Send();
  return true;
}

void BenchClient::Send() {
  context_.emplace();
  context_->set_deadline(request_timeout_);
  if (InSession()) cli::AttachSessionTag(tag_, &*context_);
  switch (kind_) {
    case Kind::kPut:
      put_call_ = stub_->AsyncPut(&*context_, put_, cq_);
      put_call_->Finish(&put_reply_, &status_, this);
      break;
    case Kind::kRange:
      range_call_ = stub_->AsyncRange(&*context_, range_, cq_);
      range_call_->Finish(&range_reply_, &status_, this);
      break;
    case Kind::kTxnPut:
      txn_call_ = stub_->AsyncTxn(&*context_, txn_, cq_);
      txn_call_->Finish(&txn_reply_, &status_, this);
      break;
  }
}

bool BenchClient::OnCompletion(Clock::time_point now) {
  if (pausing_) {
    pausing_ = false;
    Send();
    return true;
  }
  // The readers live in the call's arena, which the context frees: drop them first.
  put_call_.reset();
  range_call_.reset();
  txn_call_.reset();
  context_.reset();
  const auto code = static_cast<absl::StatusCode>(status_.error_code());
  if (InSession() && cli::IsRetryable(code) && attempt_ + 1 < retry_policy_.max_attempts) {
    ++attempt_;
    ++stats_->retries;
    pausing_ = true;
    // A relative deadline, like the calls'.
    retry_alarm_.Set(cq_,
                     gpr_time_from_nanos(absl::ToInt64Nanoseconds(
                                             cli::Backoff(retry_policy_, attempt_)),
                                         GPR_TIMESPAN),
                     this);
    return true;
  }
  // The session was dropped (idle past its TTL, or evicted): this write was not applied, and
  // the client goes on under a new id.
  if (InSession() && code == absl::StatusCode::kNotFound &&
      cli::IsSessionNotFound(absl::NotFoundError(status_.error_message()))) {
    session_.Renew();
  }
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
  return false;
}

}  // namespace raftkv::bench
