#include "server/etcd/lock_service.h"

#include <memory>
#include <string>
#include <utility>

#include "server/etcd/concurrency_keys.h"
#include "server/etcd/contender_call.h"
#include "server/etcd/grpc_status.h"

namespace raftkv::server::etcd {

// One Lock call: lease → enqueue txn → (wait for the turn) → answer (see ContenderCall).
class LockService::LockCall final : public ContenderCall {
 public:
  LockCall(LockService* service, absl::Time deadline, const v3lockpb::LockRequest& request,
           v3lockpb::LockResponse* response)
      : ContenderCall(service->backend_, service->hub_, deadline, request.lease()),
        service_(service),
        prefix_(ContenderPrefix(request.name())),
        response_(response) {}

 private:
  void OnLease(int64_t lease) override {
    key_ = ContenderKey(prefix_, lease);
    // Mutex.Lock's txn: join the queue unless this lease is already in it, and read the holder.
    kvpb::Request request;
    etcdserverpb::TxnRequest* txn = request.mutable_txn();
    *txn->add_compare() = CreateRevisionIs(key_, 0);
    etcdserverpb::PutRequest* put = txn->add_success()->mutable_request_put();
    put->set_key(key_);
    put->set_lease(lease);
    *txn->add_success()->mutable_request_range() = FirstCreated(prefix_);
    txn->add_failure()->mutable_request_range()->set_key(key_);
    *txn->add_failure()->mutable_request_range() = FirstCreated(prefix_);
    backend_->Write(std::move(request), deadline_, [this](absl::StatusOr<kvpb::Response> answer) {
      OnEnqueued(std::move(answer));
    });
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
      return TakeTurn(txn.header().revision());
    }
    WaitForTurn(prefix_, key_, my_revision);
  }

  void OnTurn(int64_t revision) override {
    service_->FillHeader(response_->mutable_header(), revision);
    response_->set_key(key_);
    Finish(::grpc::Status::OK);
  }

  // Mutex.Lock's cleanup when the wait failed: delete our key, then answer `status`.
  void GiveUp(::grpc::Status status) override {
    kvpb::Request request;
    request.mutable_delete_range()->set_key(key_);
    backend_->Write(
        std::move(request), absl::Now() + service_->request_timeout_,
        [this, status = std::move(status)](absl::StatusOr<kvpb::Response>) { Finish(status); });
  }

  LockService* const service_;
  const std::string prefix_;
  v3lockpb::LockResponse* const response_;
  std::string key_;
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
