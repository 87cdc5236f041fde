// etcd's Cluster service: MemberList. Membership changes (MemberAdd/Remove/Update/Promote) are
// not served and answer UNIMPLEMENTED (the generated base class does that).
// Thread-safety: thread-safe; gRPC calls the methods concurrently.
#pragma once

#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "server/etcd/backend.h"

namespace raftkv::server::etcd {

class ClusterService final : public etcdserverpb::Cluster::Service {
 public:
  explicit ClusterService(Backend* backend);  // not owned

  ::grpc::Status MemberList(::grpc::ServerContext* context,
                            const etcdserverpb::MemberListRequest* request,
                            etcdserverpb::MemberListResponse* response) override;

 private:
  Backend* const backend_;
};

}  // namespace raftkv::server::etcd
