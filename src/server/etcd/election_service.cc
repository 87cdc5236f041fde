#include "server/etcd/election_service.h"

#include <memory>
#include <string>
#include <utility>

#include "kv/store.h"
#include "server/etcd/concurrency_keys.h"
#include "server/etcd/contender_call.h"
#include "server/etcd/election_observer.h"
#include "server/etcd/grpc_status.h"
#include "server/etcd/session_lease.h"

namespace raftkv::server::etcd {
namespace {

etcdserverpb::RequestOp PutOp(const std::string& key, const std::string& value, int64_t lease) {
  etcdserverpb::RequestOp op;
  etcdserverpb::PutRequest* put = op.mutable_request_put();
  put->set_key(key);
  put->set_value(value);
  put->set_lease(lease);
  return op;
}

etcdserverpb::RequestOp DeleteOp(const std::string& key) {
  etcdserverpb::RequestOp op;
  op.mutable_request_delete_range()->set_key(key);
  return op;
}

}  // namespace

// One Campaign call: lease → campaign txn → (proclaim) → wait for the turn → answer (see
// ContenderCall).
class ElectionService::CampaignCall final : public ContenderCall {
 public:
  CampaignCall(ElectionService* service, absl::Time deadline,
               const v3electionpb::CampaignRequest& request,
               v3electionpb::CampaignResponse* response)
      : ContenderCall(service->backend_, service->hub_, deadline, request.lease()),
        service_(service),
        name_(request.name()),
        prefix_(ContenderPrefix(request.name())),
        value_(request.value()),
        response_(response) {}

 private:
  void OnLease(int64_t lease) override {
    lease_ = lease;
    key_ = ContenderKey(prefix_, lease_);
    kvpb::Request request;
    etcdserverpb::TxnRequest* txn = request.mutable_txn();
    *txn->add_compare() = CreateRevisionIs(key_, 0);
    *txn->add_success() = PutOp(key_, value_, lease_);
    txn->add_failure()->mutable_request_range()->set_key(key_);
    backend_->Write(std::move(request), deadline_, [this](absl::StatusOr<kvpb::Response> answer) {
      OnCampaigned(std::move(answer));
    });
  }

  void OnCampaigned(absl::StatusOr<kvpb::Response> answer) {
    if (!answer.ok()) return Finish(ToGrpcStatus(answer.status()));
    const etcdserverpb::TxnResponse& txn = answer->txn();
    header_revision_ = txn.header().revision();
    leader_revision_ = header_revision_;
    if (txn.succeeded()) return WaitForTurn(prefix_, key_, leader_revision_);
    // This lease campaigned before: keep its place in line, with the new value.
    if (txn.responses(0).response_range().kvs_size() == 0) {
      return Finish(ToGrpcStatus(absl::InternalError("the campaign key vanished inside its txn")));
    }
    const mvccpb::KeyValue& existing = txn.responses(0).response_range().kvs(0);
    leader_revision_ = existing.create_revision();
    if (existing.value() == value_) return WaitForTurn(prefix_, key_, leader_revision_);
    service_->IfStillCreatedAt(key_, leader_revision_, PutOp(key_, value_, lease_), deadline_,
                               [this](absl::StatusOr<etcdserverpb::TxnResponse> proclaimed) {
                                 if (!proclaimed.ok())
                                   return Finish(ToGrpcStatus(proclaimed.status()));
                                 if (!proclaimed->succeeded())
                                   return Finish(ToGrpcStatus(ElectionNotLeaderError()));
                                 WaitForTurn(prefix_, key_, leader_revision_);
                               });
  }

  void OnTurn(int64_t) override {
    // Election.Campaign answers the header of its campaign txn, not of the wait.
    service_->FillHeader(response_->mutable_header(), header_revision_);
    v3electionpb::LeaderKey* leader = response_->mutable_leader();
    leader->set_name(name_);
    leader->set_key(key_);
    leader->set_rev(leader_revision_);
    leader->set_lease(lease_);
    Finish(::grpc::Status::OK);
  }

  // Election.Campaign's cleanup after a cancelled wait: Resign, then answer `status`.
  void GiveUp(::grpc::Status status) override {
    service_->IfStillCreatedAt(
        key_, leader_revision_, DeleteOp(key_), absl::Now() + service_->request_timeout_,
        [this, status = std::move(status)](absl::StatusOr<etcdserverpb::TxnResponse>) {
          Finish(status);
        });
  }

  ElectionService* const service_;
  const std::string name_;
  const std::string prefix_;
  const std::string value_;
  v3electionpb::CampaignResponse* const response_;
  int64_t lease_ = 0;
  std::string key_;
  int64_t header_revision_ = 0;
  int64_t leader_revision_ = 0;
};

ElectionService::ElectionService(Backend* backend, WatchHub* hub, absl::Duration request_timeout)
    : backend_(backend), hub_(hub), request_timeout_(request_timeout) {}

void ElectionService::FillHeader(etcdserverpb::ResponseHeader* header, int64_t revision) {
  const HeaderInfo info = backend_->Header();
  header->set_cluster_id(info.cluster_id);
  header->set_member_id(info.member_id);
  header->set_raft_term(info.raft_term);
  header->set_revision(revision);
}

void ElectionService::IfStillCreatedAt(const std::string& key, int64_t rev,
                                       etcdserverpb::RequestOp op, absl::Time deadline,
                                       TxnDone done) {
  kvpb::Request request;
  etcdserverpb::TxnRequest* txn = request.mutable_txn();
  *txn->add_compare() = CreateRevisionIs(key, rev);
  *txn->add_success() = std::move(op);
  backend_->Write(std::move(request), deadline,
                  [done = std::move(done)](absl::StatusOr<kvpb::Response> answer) mutable {
                    if (!answer.ok()) return done(answer.status());
                    done(std::move(*answer->mutable_txn()));
                  });
}

::grpc::ServerUnaryReactor* ElectionService::Campaign(::grpc::CallbackServerContext* context,
                                                      const v3electionpb::CampaignRequest* request,
                                                      v3electionpb::CampaignResponse* response) {
  auto* call = new CampaignCall(this, CallDeadline(context, request_timeout_), *request, response);
  call->Start();
  return call;
}

::grpc::ServerUnaryReactor* ElectionService::Proclaim(::grpc::CallbackServerContext* context,
                                                      const v3electionpb::ProclaimRequest* request,
                                                      v3electionpb::ProclaimResponse* response) {
  ::grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!request->has_leader()) {
    reactor->Finish(ToGrpcStatus(MissingLeaderKeyError()));
    return reactor;
  }
  const absl::Time deadline = CallDeadline(context, request_timeout_);
  const v3electionpb::LeaderKey leader = request->leader();
  std::string value = request->value();
  SessionLease(*backend_, leader.lease(), deadline,
               [this, leader, value = std::move(value), deadline, response,
                reactor](absl::StatusOr<int64_t> lease) {
                 if (!lease.ok()) return reactor->Finish(ToGrpcStatus(lease.status()));
                 IfStillCreatedAt(
                     leader.key(), leader.rev(), PutOp(leader.key(), value, *lease), deadline,
                     [this, response, reactor](absl::StatusOr<etcdserverpb::TxnResponse> txn) {
                       if (!txn.ok()) return reactor->Finish(ToGrpcStatus(txn.status()));
                       if (!txn->succeeded()) {
                         return reactor->Finish(ToGrpcStatus(ElectionNotLeaderError()));
                       }
                       FillHeader(response->mutable_header(), txn->header().revision());
                       reactor->Finish(::grpc::Status::OK);
                     });
               });
  return reactor;
}

::grpc::ServerUnaryReactor* ElectionService::Resign(::grpc::CallbackServerContext* context,
                                                    const v3electionpb::ResignRequest* request,
                                                    v3electionpb::ResignResponse* response) {
  ::grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!request->has_leader()) {
    reactor->Finish(ToGrpcStatus(MissingLeaderKeyError()));
    return reactor;
  }
  // etcd's server would grant a session lease for lease 0 here too, and never use it; raftkv
  // does not grant it.
  IfStillCreatedAt(request->leader().key(), request->leader().rev(),
                   DeleteOp(request->leader().key()), CallDeadline(context, request_timeout_),
                   [this, response, reactor](absl::StatusOr<etcdserverpb::TxnResponse> txn) {
                     if (!txn.ok()) return reactor->Finish(ToGrpcStatus(txn.status()));
                     // Whether or not the key was still the leader's, as etcd.
                     FillHeader(response->mutable_header(), txn->header().revision());
                     reactor->Finish(::grpc::Status::OK);
                   });
  return reactor;
}

::grpc::ServerUnaryReactor* ElectionService::Leader(::grpc::CallbackServerContext* context,
                                                    const v3electionpb::LeaderRequest* request,
                                                    v3electionpb::LeaderResponse* response) {
  ::grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::string prefix = ContenderPrefix(request->name());
  backend_->WaitLinearizable(
      CallDeadline(context, request_timeout_),
      [this, prefix = std::move(prefix), response, reactor](absl::Status ready) {
        if (!ready.ok()) return reactor->Finish(ToGrpcStatus(ready));
        absl::StatusOr<etcdserverpb::RangeResponse> leader;
        backend_->Read([&](const kv::Store& store) { leader = store.Range(FirstCreated(prefix)); });
        if (!leader.ok()) return reactor->Finish(ToGrpcStatus(leader.status()));
        if (leader->kvs_size() == 0) return reactor->Finish(ToGrpcStatus(ElectionNoLeaderError()));
        FillHeader(response->mutable_header(), leader->header().revision());
        *response->mutable_kv() = leader->kvs(0);
        reactor->Finish(::grpc::Status::OK);
      });
  return reactor;
}

::grpc::ServerWriteReactor<v3electionpb::LeaderResponse>* ElectionService::Observe(
    ::grpc::CallbackServerContext* context, const v3electionpb::LeaderRequest* request) {
  return ElectionObserver::Start(backend_, hub_, request->name(),
                                 CallDeadline(context, request_timeout_));
}

}  // namespace raftkv::server::etcd
