#include "server/etcd/contender_call.h"

#include <utility>

#include "server/etcd/concurrency_keys.h"
#include "server/etcd/grpc_status.h"
#include "server/etcd/session_lease.h"

namespace raftkv::server::etcd {

void ContenderCall::Start() {
  SessionLease(*backend_, requested_lease_, deadline_, [this](absl::StatusOr<int64_t> lease) {
    if (!lease.ok()) return Finish(ToGrpcStatus(lease.status()));
    if (cancelled()) return Finish(::grpc::Status::CANCELLED);
    OnLease(*lease);
  });
}

void ContenderCall::OnCancel() {
  std::shared_ptr<TurnWaiter> waiter;
  {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    waiter = waiter_;
  }
  if (waiter != nullptr) waiter->Cancel();
}

bool ContenderCall::cancelled() {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

void ContenderCall::WaitForTurn(const std::string& prefix, const std::string& key,
                                int64_t create_revision) {
  auto waiter = std::make_shared<TurnWaiter>(
      backend_, hub_, prefix, key, create_revision,
      [this](TurnWaiter::Outcome outcome, int64_t revision) { OnWaitEnded(outcome, revision); });
  bool waiting = false;
  {
    absl::MutexLock lock(&mu_);
    if (!cancelled_) waiter_ = waiter;
    waiting = !cancelled_;
  }
  if (!waiting) return GiveUp(::grpc::Status::CANCELLED);
  waiter->Start();
}

void ContenderCall::TakeTurn(int64_t revision) {
  if (cancelled()) return GiveUp(::grpc::Status::CANCELLED);
  OnTurn(revision);
}

void ContenderCall::OnWaitEnded(TurnWaiter::Outcome outcome, int64_t revision) {
  switch (outcome) {
    case TurnWaiter::Outcome::kTurn:
      return TakeTurn(revision);
    case TurnWaiter::Outcome::kKeyGone:
      return Finish(ToGrpcStatus(SessionExpiredError()));
    case TurnWaiter::Outcome::kStopped:
      return Finish(ToGrpcStatus(StoppedError()));
    case TurnWaiter::Outcome::kRefused:
      return GiveUp(ToGrpcStatus(TooManyRequestsError()));
    case TurnWaiter::Outcome::kCanceled:
      return GiveUp(::grpc::Status::CANCELLED);
  }
}

}  // namespace raftkv::server::etcd
