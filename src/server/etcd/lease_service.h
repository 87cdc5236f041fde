// etcd's Lease service: LeaseGrant, LeaseRevoke, LeaseKeepAlive, LeaseTimeToLive, LeaseLeases.
//
// Grants and revokes are replicated writes (Backend::Write), answered once applied here. A
// keep-alive or a TTL query is answered from the leader's lease clock (Backend::RenewLease,
// Backend::LeaseTimeToLive); on a member that does not lead they fail with "etcdserver: leader
// changed" (etcd forwards them to the leader; this service does not yet). LeaseLeases lists
// the leases of the local store, as etcd does.
//
// A keep-alive stream holds at most one request at a time: it reads the next request only
// after the answer to the previous one was written, so a client cannot make the member queue
// keep-alives without bound (gRPC's flow control holds the rest back).
//
// Thread-safety: thread-safe; gRPC calls the methods concurrently.
#pragma once

#include "absl/time/time.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "server/etcd/backend.h"

namespace raftkv::server::etcd {

class LeaseService final : public etcdserverpb::Lease::CallbackService {
 public:
  // `backend` is not owned and must outlive the service. `request_timeout` bounds how long one
  // call (or one keep-alive) waits for raft or the leader.
  LeaseService(Backend* backend, absl::Duration request_timeout);

  ::grpc::ServerUnaryReactor* LeaseGrant(::grpc::CallbackServerContext* context,
                                         const etcdserverpb::LeaseGrantRequest* request,
                                         etcdserverpb::LeaseGrantResponse* response) override;
  ::grpc::ServerUnaryReactor* LeaseRevoke(::grpc::CallbackServerContext* context,
                                          const etcdserverpb::LeaseRevokeRequest* request,
                                          etcdserverpb::LeaseRevokeResponse* response) override;
  ::grpc::ServerBidiReactor<etcdserverpb::LeaseKeepAliveRequest,
                            etcdserverpb::LeaseKeepAliveResponse>*
  LeaseKeepAlive(::grpc::CallbackServerContext* context) override;
  ::grpc::ServerUnaryReactor* LeaseTimeToLive(
      ::grpc::CallbackServerContext* context, const etcdserverpb::LeaseTimeToLiveRequest* request,
      etcdserverpb::LeaseTimeToLiveResponse* response) override;
  ::grpc::ServerUnaryReactor* LeaseLeases(::grpc::CallbackServerContext* context,
                                          const etcdserverpb::LeaseLeasesRequest* request,
                                          etcdserverpb::LeaseLeasesResponse* response) override;

 private:
  class KeepAliveStream;
  void FillHeader(etcdserverpb::ResponseHeader* header, int64_t revision);
  int64_t CurrentRevision();

  Backend* const backend_;
  const absl::Duration request_timeout_;
};

}  // namespace raftkv::server::etcd
