#include "server/etcd/lock_service.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "server/etcd/concurrency_keys.h"
#include "server/etcd/grpc_status.h"
#include "server/etcd/session_lease.h"
#include "server/etcd/turn_waiter.h"

namespace raftkv::server::etcd {

// One Lock call: lease → enqueue txn → (wait for the turn) → answer. Each step starts the next
// from its callback, so exactly one step is in flight and Finish is always the last thing done;
// the only concurrent event is OnCancel, which ends a wait through TurnWaiter::Cancel (exactly
// once) or is noticed by the next step. Deletes itself in OnDone.
class LockService::LockCall final : public ::grpc::ServerUnaryReactor {
 public:
  LockCall(LockService* service, absl::Time deadline, const v3lockpb::LockRequest& request,
           v3lockpb::LockResponse* response)
      : service_(service),
        deadline_(deadline),
        prefix_(ContenderPrefix(request.name())),
        lease_(request.lease()),
        response_(response) {}

  void Start() {
    SessionLease(*service_->backend_, lease_, deadline_,
                 [this](absl::StatusOr<int64_t> lease) { OnLease(std::move(lease)); });
  }

  void OnCancel() override {
    std::shared_ptr<TurnWaiter> waiter;
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
      waiter = waiter_;
    }
    if (waiter != nullptr) waiter->Cancel();
  }

  void OnDone() override { delete this; }

 private:
  bool cancelled() {
    absl::MutexLock lock(&mu_);
    return cancelled_;
  }

  void OnLease(absl::StatusOr<int64_t> lease) {
    if (!lease.ok()) return Finish(ToGrpcStatus(lease.status()));
    if (cancelled()) return Finish(::grpc::Status::CANCELLED);
    key_ = ContenderKey(prefix_, *lease);
    // Mutex.Lock's txn: join the queue unless this lease is already in it, and read the holder.
    kvpb::Request request;
    etcdserverpb::TxnRequest* txn = request.mutable_txn();
    *txn->add_compare() = CreateRevisionIs(key_, 0);
    etcdserverpb::PutRequest* put = txn->add_success()->mutable_request_put();
    put->set_key(key_);
    put->set_lease(*lease);
    *txn->add_success()->mutable_request_range() = FirstCreated(prefix_);
    txn->add_failure()->mutable_request_range()->set_key(key_);
    *txn->add_failure()->mutable_request_range() = FirstCreated(prefix_);
    service_->backend_->Write(
        std::move(request), deadline_,
        [this](absl::StatusOr<kvpb::Response> answer) { OnEnqueued(std::move(answer)); });
  }

  void OnEnqueued(absl::StatusOr<kvpb::Response> answer) {
    if (!answer.ok()) return Finish(ToGrpcStatus(answer.status()));
    const etcdserverpb::TxnResponse& txn = answer->txn();
    int64_t my_revision = txn.header().revision();
    if (!txn.succeeded()) {
      // The compare failed, so the key exists and the failure branch read it.
      if (txn.responses(0).response_range().kvs_size() == 0) {
        return Finish(ToGrpcStatus(absl::InternalError("the lock key vanished inside its txn")));
      }
      my_revision = txn.responses(0).response_range().kvs(0).create_revision();
    }
    const auto& holder = txn.responses(1).response_range().kvs();
    if (holder.empty() || holder[0].create_revision() == my_revision) {
      return Acquired(txn.header().revision());
    }
    auto waiter = std::make_shared<TurnWaiter>(
        service_->backend_, service_->hub_, prefix_, key_, my_revision,
        [this](TurnWaiter::Outcome outcome, int64_t revision) { OnTurn(outcome, revision); });
    bool waiting = false;
    {
      absl::MutexLock lock(&mu_);
      if (!cancelled_) waiter_ = waiter;
      waiting = !cancelled_;
    }
    if (!waiting) return Release(::grpc::Status::CANCELLED);
    waiter->Start();
  }

  void OnTurn(TurnWaiter::Outcome outcome, int64_t revision) {
    switch (outcome) {
      case TurnWaiter::Outcome::kTurn:
        return Acquired(revision);
      case TurnWaiter::Outcome::kKeyGone:
        return Finish(ToGrpcStatus(SessionExpiredError()));
      case TurnWaiter::Outcome::kStopped:
        return Finish(ToGrpcStatus(StoppedError()));
      case TurnWaiter::Outcome::kRefused:
        return Release(ToGrpcStatus(TooManyRequestsError()));
      case TurnWaiter::Outcome::kCanceled:
        return Release(::grpc::Status::CANCELLED);
    }
  }

  void Acquired(int64_t revision) {
    // A client that gave up meanwhile will never unlock: give the lock back now.
    if (cancelled()) return Release(::grpc::Status::CANCELLED);
    service_->FillHeader(response_->mutable_header(), revision);
    response_->set_key(key_);
    Finish(::grpc::Status::OK);
  }

  // Mutex.Lock's cleanup when the wait failed: delete our key, then answer `status`.
  void Release(::grpc::Status status) {
    kvpb::Request request;
    request.mutable_delete_range()->set_key(key_);
    service_->backend_->Write(
        std::move(request), absl::Now() + service_->request_timeout_,
        [this, status = std::move(status)](absl::StatusOr<kvpb::Response>) { Finish(status); });
  }

  LockService* const service_;
  const absl::Time deadline_;
  const std::string prefix_;
  const int64_t lease_;
  v3lockpb::LockResponse* const response_;
  std::string key_;
  absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  // Set once the call waits for its turn.
  std::shared_ptr<TurnWaiter> waiter_ ABSL_GUARDED_BY(mu_);
};

LockService::LockService(Backend* backend, WatchHub* hub, absl::Duration request_timeout)
    : backend_(backend), hub_(hub), request_timeout_(request_timeout) {}

void LockService::FillHeader(etcdserverpb::ResponseHeader* header, int64_t revision) {
  const HeaderInfo info = backend_->Header();
  header->set_cluster_id(info.cluster_id);
  header->set_member_id(info.member_id);
  header->set_raft_term(info.raft_term);
  header->set_revision(revision);
}

::grpc::ServerUnaryReactor* LockService::Lock(::grpc::CallbackServerContext* context,
                                              const v3lockpb::LockRequest* request,
                                              v3lockpb::LockResponse* response) {
  auto* call = new LockCall(this, CallDeadline(context, request_timeout_), *request, response);
  call->Start();
  return call;
}

::grpc::ServerUnaryReactor* LockService::Unlock(::grpc::CallbackServerContext* context,
                                                const v3lockpb::UnlockRequest* request,
                                                v3lockpb::UnlockResponse* response) {
  ::grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  kvpb::Request remove;
  remove.mutable_delete_range()->set_key(request->key());
  backend_->Write(std::move(remove), CallDeadline(context, request_timeout_),
                  [this, response, reactor](absl::StatusOr<kvpb::Response> answer) {
                    if (!answer.ok()) return reactor->Finish(ToGrpcStatus(answer.status()));
                    FillHeader(response->mutable_header(),
                               answer->delete_range().header().revision());
                    reactor->Finish(::grpc::Status::OK);
                  });
  return reactor;
}

}  // namespace raftkv::server::etcd
