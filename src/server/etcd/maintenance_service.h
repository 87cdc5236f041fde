// etcd's Maintenance service: Status, Alarm, Defragment, HashKV and MoveLeader. Hash and
// Snapshot are not served and answer UNIMPLEMENTED (the generated base class does that).
// Thread-safety: thread-safe; gRPC calls the methods concurrently.
#pragma once

#include <string>

#include "absl/time/time.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "server/etcd/backend.h"

namespace raftkv::server::etcd {

class MaintenanceService final : public etcdserverpb::Maintenance::Service {
 public:
  // `backend` is not owned. `version` is the etcd API version announced in Status; clients such
  // as clientv3's RejectOldCluster require it to parse as >= 3.2. `request_timeout` bounds a
  // leadership transfer and an alarm request.
  MaintenanceService(Backend* backend, std::string version, absl::Duration request_timeout);

  // The generated base class declares a method named Status, which hides the type grpc::Status
  // inside this class: hence ::grpc::Status throughout.
  ::grpc::Status Status(::grpc::ServerContext* context, const etcdserverpb::StatusRequest* request,
                        etcdserverpb::StatusResponse* response) override;
  // GET, ACTIVATE and DEACTIVATE all go through the log, as in etcd, so every member agrees on
  // the alarms and a GET sees every change acknowledged before it. Only NOSPACE can be raised,
  // and only for a member of the cluster.
  ::grpc::Status Alarm(::grpc::ServerContext* context, const etcdserverpb::AlarmRequest* request,
                       etcdserverpb::AlarmResponse* response) override;
  // Nothing to do: the store lives in memory and a compaction frees what it drops at once (the
  // size etcd's defragmentation gives back). Answered so that etcd's procedure for recovering
  // from NOSPACE (compact, defrag, alarm disarm) runs unchanged.
  ::grpc::Status Defragment(::grpc::ServerContext* context,
                            const etcdserverpb::DefragmentRequest* request,
                            etcdserverpb::DefragmentResponse* response) override;
  ::grpc::Status HashKV(::grpc::ServerContext* context, const etcdserverpb::HashKVRequest* request,
                        etcdserverpb::HashKVResponse* response) override;
  // Answered by the leader only, as etcd: etcdctl move-leader finds the leader first.
  ::grpc::Status MoveLeader(::grpc::ServerContext* context,
                            const etcdserverpb::MoveLeaderRequest* request,
                            etcdserverpb::MoveLeaderResponse* response) override;

 private:
  void FillHeader(etcdserverpb::ResponseHeader* header);

  Backend* const backend_;
  const std::string version_;
  const absl::Duration request_timeout_;
};

}  // namespace raftkv::server::etcd
