#include "server/etcd/lease_service.h"

#include <string>
#include <utility>

#include "kv/errors.h"
#include "kv/store.h"
#include "server/etcd/grpc_status.h"
#include "server/etcd/lease_forwarding.h"

namespace raftkv::server::etcd {

// One LeaseKeepAlive stream: read a request, renew on the leader, write the answer, read the
// next. Exactly one operation is outstanding at any time, so there is nothing to lock, and the
// reactor deletes itself in OnDone, which gRPC calls only after Finish and the last operation.
class LeaseService::KeepAliveStream final
    : public ::grpc::ServerBidiReactor<etcdserverpb::LeaseKeepAliveRequest,
                                       etcdserverpb::LeaseKeepAliveResponse> {
 public:
  KeepAliveStream(LeaseService* service, bool forwarded)
      : service_(service), forwarded_(forwarded) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    // The client closed its side (or the call is over): no renew is in flight, so end here.
    if (!ok) return Finish(::grpc::Status::OK);
    response_.Clear();
    response_.set_id(request_.id());
    // The header is taken before the renewal, as etcd does, so that its revision is never
    // later than a revoke the renewal might race with.
    service_->FillHeader(response_.mutable_header(), service_->CurrentRevision());
    service_->Renew(request_.id(), forwarded_, absl::Now() + service_->request_timeout_,
                    [this](absl::StatusOr<int64_t> ttl) {
                      if (!ttl.ok()) return Finish(ToGrpcStatus(ttl.status()));
                      response_.set_ttl(*ttl);
                      StartWrite(&response_);
                    });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return Finish(::grpc::Status::CANCELLED);
    StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  LeaseService* const service_;
  const bool forwarded_;
  etcdserverpb::LeaseKeepAliveRequest request_;
  etcdserverpb::LeaseKeepAliveResponse response_;
};

LeaseService::LeaseService(Backend* backend, LeaderForwarder* forwarder,
                           absl::Duration request_timeout)
    : backend_(backend), forwarder_(forwarder), request_timeout_(request_timeout) {}

void LeaseService::Renew(int64_t id, bool forwarded, absl::Time deadline, Backend::RenewDone done) {
  backend_->RenewLease(
      id, deadline,
      [this, id, forwarded, deadline, done = std::move(done)](absl::StatusOr<int64_t> ttl) mutable {
        if (forwarded || ttl.status() != LeaderChangedError()) {
          return done(std::move(ttl));
        }
        ForwardRenewLease(*forwarder_, id, deadline, std::move(done));
      });
}

void LeaseService::TimeToLive(int64_t id, bool with_keys, bool forwarded, absl::Time deadline,
                              Backend::TimeToLiveDone done) {
  backend_->LeaseTimeToLive(id, with_keys, deadline,
                            [this, id, with_keys, forwarded, deadline,
                             done = std::move(done)](absl::StatusOr<LeaseTtl> ttl) mutable {
                              if (forwarded || ttl.status() != LeaderChangedError())
                                return done(std::move(ttl));
                              ForwardLeaseTimeToLive(*forwarder_, id, with_keys, deadline,
                                                     std::move(done));
                            });
}

void LeaseService::FillHeader(etcdserverpb::ResponseHeader* header, int64_t revision) {
  const HeaderInfo info = backend_->Header();
  header->set_cluster_id(info.cluster_id);
  header->set_member_id(info.member_id);
  header->set_raft_term(info.raft_term);
  header->set_revision(revision);
}

int64_t LeaseService::CurrentRevision() {
  int64_t revision = 0;
  backend_->Read([&](const kv::Store& store) { revision = store.revision(); });
  return revision;
}

::grpc::ServerUnaryReactor* LeaseService::LeaseGrant(::grpc::CallbackServerContext* context,
                                                     const etcdserverpb::LeaseGrantRequest* request,
                                                     etcdserverpb::LeaseGrantResponse* response) {
  ::grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // etcd checks the maximum before proposing too (the store checks it again when applying).
  if (request->ttl() > kv::kMaxLeaseTtlSeconds) {
    reactor->Finish(ToGrpcStatus(kv::LeaseTtlTooLargeError()));
    return reactor;
  }
  kvpb::Request replicated;
  *replicated.mutable_lease_grant() = *request;
  backend_->Write(std::move(replicated), CallDeadline(context, request_timeout_),
                  [this, response, reactor](absl::StatusOr<kvpb::Response> result) {
                    if (!result.ok()) return reactor->Finish(ToGrpcStatus(result.status()));
                    *response = std::move(*result->mutable_lease_grant());
                    FillHeader(response->mutable_header(), response->header().revision());
                    reactor->Finish(::grpc::Status::OK);
                  });
  return reactor;
}

::grpc::ServerUnaryReactor* LeaseService::LeaseRevoke(
    ::grpc::CallbackServerContext* context, const etcdserverpb::LeaseRevokeRequest* request,
    etcdserverpb::LeaseRevokeResponse* response) {
  ::grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  kvpb::Request replicated;
  *replicated.mutable_lease_revoke() = *request;
  backend_->Write(std::move(replicated), CallDeadline(context, request_timeout_),
                  [this, response, reactor](absl::StatusOr<kvpb::Response> result) {
                    if (!result.ok()) return reactor->Finish(ToGrpcStatus(result.status()));
                    *response = std::move(*result->mutable_lease_revoke());
                    FillHeader(response->mutable_header(), response->header().revision());
                    reactor->Finish(::grpc::Status::OK);
                  });
  return reactor;
}

::grpc::ServerBidiReactor<etcdserverpb::LeaseKeepAliveRequest,
                          etcdserverpb::LeaseKeepAliveResponse>*
LeaseService::LeaseKeepAlive(::grpc::CallbackServerContext* context) {
  return new KeepAliveStream(this, LeaderForwarder::WasForwarded(*context));
}

::grpc::ServerUnaryReactor* LeaseService::LeaseTimeToLive(
    ::grpc::CallbackServerContext* context, const etcdserverpb::LeaseTimeToLiveRequest* request,
    etcdserverpb::LeaseTimeToLiveResponse* response) {
  ::grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const int64_t id = request->id();
  const int64_t revision = CurrentRevision();
  TimeToLive(id, request->keys(), LeaderForwarder::WasForwarded(*context),
             CallDeadline(context, request_timeout_),
             [this, id, revision, response, reactor](absl::StatusOr<LeaseTtl> result) {
               response->set_id(id);
               if (result.ok()) {
                 response->set_ttl(result->remaining_seconds);
                 response->set_grantedttl(result->granted_ttl);
                 for (std::string& key : result->keys) response->add_keys(std::move(key));
               } else if (result.status() == kv::LeaseNotFoundError()) {
                 // etcd answers a missing lease with TTL -1, not an error.
                 response->set_ttl(-1);
               } else {
                 return reactor->Finish(ToGrpcStatus(result.status()));
               }
               FillHeader(response->mutable_header(), revision);
               reactor->Finish(::grpc::Status::OK);
             });
  return reactor;
}

::grpc::ServerUnaryReactor* LeaseService::LeaseLeases(::grpc::CallbackServerContext* context,
                                                      const etcdserverpb::LeaseLeasesRequest*,
                                                      etcdserverpb::LeaseLeasesResponse* response) {
  ::grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  int64_t revision = 0;
  backend_->Read([&](const kv::Store& store) {
    revision = store.revision();
    for (const kv::LeaseState& lease : store.Leases()) response->add_leases()->set_id(lease.id);
  });
  FillHeader(response->mutable_header(), revision);
  reactor->Finish(::grpc::Status::OK);
  return reactor;
}

}  // namespace raftkv::server::etcd
