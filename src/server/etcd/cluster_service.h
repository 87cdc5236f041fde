// etcd's Cluster service: MemberList, MemberAdd, MemberRemove, MemberPromote and MemberUpdate.
//
// Membership changes are decided by the leader (it holds the newest membership and knows how
// far each learner has caught up). A member that is not the leader forwards the call, once, to
// the leader's advertised client URL (LeaderForwarder) and relays the answer, so that clients
// may send them to any member, as with etcd.
//
// Thread-safety: thread-safe; gRPC calls the methods concurrently.
#pragma once

#include "absl/time/time.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "server/etcd/backend.h"
#include "server/etcd/leader_forwarder.h"

namespace raftkv::server::etcd {

class ClusterService final : public etcdserverpb::Cluster::Service {
 public:
  // `backend` and `forwarder` are not owned. `request_timeout` bounds one membership change.
  ClusterService(Backend* backend, LeaderForwarder* forwarder, absl::Duration request_timeout);

  ::grpc::Status MemberList(::grpc::ServerContext* context,
                            const etcdserverpb::MemberListRequest* request,
                            etcdserverpb::MemberListResponse* response) override;
  ::grpc::Status MemberAdd(::grpc::ServerContext* context,
                           const etcdserverpb::MemberAddRequest* request,
                           etcdserverpb::MemberAddResponse* response) override;
  ::grpc::Status MemberRemove(::grpc::ServerContext* context,
                              const etcdserverpb::MemberRemoveRequest* request,
                              etcdserverpb::MemberRemoveResponse* response) override;
  ::grpc::Status MemberPromote(::grpc::ServerContext* context,
                               const etcdserverpb::MemberPromoteRequest* request,
                               etcdserverpb::MemberPromoteResponse* response) override;
  ::grpc::Status MemberUpdate(::grpc::ServerContext* context,
                              const etcdserverpb::MemberUpdateRequest* request,
                              etcdserverpb::MemberUpdateResponse* response) override;

 private:
  // Fills the header and the member list from the backend's current view.
  template <typename Response>
  void FillMembers(Response* response);

  // Runs `change` here; if this member is not the leader, forwards the call to the leader with
  // `forward` (a Cluster stub call) instead. Whatever the outcome, the gRPC status to return.
  template <typename Request, typename Response, typename Forward>
  ::grpc::Status ChangeOrForward(::grpc::ServerContext* context, const Request& request,
                                 Response* response, absl::Status change_status, Forward forward);

  Backend* const backend_;
  LeaderForwarder* const forwarder_;
  const absl::Duration request_timeout_;
};

}  // namespace raftkv::server::etcd
