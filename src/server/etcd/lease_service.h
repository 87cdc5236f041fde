// etcd's Lease service: LeaseGrant, LeaseRevoke, LeaseKeepAlive, LeaseTimeToLive, LeaseLeases.
//
// Grants and revokes are replicated writes (Backend::Write), answered once applied here. A
// keep-alive or a TTL query is answered from the leader's lease clock (Backend::RenewLease,
// Backend::LeaseTimeToLive); a member that does not lead forwards it to the leader and relays
// the answer (lease_forwarding.h), as etcd does. LeaseLeases lists the leases of the local
// store, as etcd does.
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
#include "server/etcd/leader_forwarder.h"

namespace raftkv::server::etcd {

class LeaseService final : public etcdserverpb::Lease::CallbackService {
 public:
  // `backend` and `forwarder` are not owned and must outlive the service. `request_timeout`
  // bounds how long one call (or one keep-alive) waits for raft or the leader.
  LeaseService(Backend* backend, LeaderForwarder* forwarder, absl::Duration request_timeout);

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
  // The leader's answers: asked here, and at the leader when this member does not lead (unless
  // the call was itself forwarded here).
  void Renew(int64_t id, bool forwarded, absl::Time deadline, Backend::RenewDone done);
  void TimeToLive(int64_t id, bool with_keys, bool forwarded, absl::Time deadline,
                  Backend::TimeToLiveDone done);

  Backend* const backend_;
  LeaderForwarder* const forwarder_;
  const absl::Duration request_timeout_;
};

}  // namespace raftkv::server::etcd
