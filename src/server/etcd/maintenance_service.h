// etcd's Maintenance service: Status, Alarm and HashKV. Defragment, Hash, Snapshot and
// MoveLeader are not served and answer UNIMPLEMENTED (the generated base class does that).
// Thread-safety: thread-safe; gRPC calls the methods concurrently.
#pragma once

#include <string>

#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "server/etcd/backend.h"

namespace raftkv::server::etcd {

class MaintenanceService final : public etcdserverpb::Maintenance::Service {
 public:
  // `backend` is not owned. `version` is the etcd API version announced in Status; clients such
  // as clientv3's RejectOldCluster require it to parse as >= 3.2.
  MaintenanceService(Backend* backend, std::string version);

  // The generated base class declares a method named Status, which hides the type grpc::Status
  // inside this class: hence ::grpc::Status throughout.
  ::grpc::Status Status(::grpc::ServerContext* context, const etcdserverpb::StatusRequest* request,
                        etcdserverpb::StatusResponse* response) override;
  ::grpc::Status Alarm(::grpc::ServerContext* context, const etcdserverpb::AlarmRequest* request,
                       etcdserverpb::AlarmResponse* response) override;
  ::grpc::Status HashKV(::grpc::ServerContext* context, const etcdserverpb::HashKVRequest* request,
                        etcdserverpb::HashKVResponse* response) override;

 private:
  void FillHeader(etcdserverpb::ResponseHeader* header);

  Backend* const backend_;
  const std::string version_;
};

}  // namespace raftkv::server::etcd
