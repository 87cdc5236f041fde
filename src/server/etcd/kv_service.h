// etcd's KV service (Range, Put, DeleteRange, Txn, Compact) over a Backend.
//
// Writes are validated here (so malformed requests cost no raft round), then replicated with
// Backend::Write; linearizable ranges wait on Backend::WaitLinearizable before reading the local
// store, serializable ones read it at once. Every response gets a full header.
// Thread-safety: thread-safe; gRPC calls the methods concurrently.
#pragma once

#include "absl/time/time.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "server/etcd/backend.h"

namespace raftkv::server::etcd {

class KvService final : public etcdserverpb::KV::Service {
 public:
  // `backend` is not owned and must outlive the service. `request_timeout` bounds how long one
  // call waits for replication or a read index when the client set no earlier deadline.
  KvService(Backend* backend, absl::Duration request_timeout);

  ::grpc::Status Range(::grpc::ServerContext* context, const etcdserverpb::RangeRequest* request,
                       etcdserverpb::RangeResponse* response) override;
  ::grpc::Status Put(::grpc::ServerContext* context, const etcdserverpb::PutRequest* request,
                     etcdserverpb::PutResponse* response) override;
  ::grpc::Status DeleteRange(::grpc::ServerContext* context,
                             const etcdserverpb::DeleteRangeRequest* request,
                             etcdserverpb::DeleteRangeResponse* response) override;
  ::grpc::Status Txn(::grpc::ServerContext* context, const etcdserverpb::TxnRequest* request,
                     etcdserverpb::TxnResponse* response) override;
  ::grpc::Status Compact(::grpc::ServerContext* context,
                         const etcdserverpb::CompactionRequest* request,
                         etcdserverpb::CompactionResponse* response) override;

 private:
  absl::Time Deadline(const ::grpc::ServerContext* context) const;
  // Replicates `request` and returns the applied result, or the error to send.
  absl::StatusOr<kvpb::Response> Replicate(const ::grpc::ServerContext* context,
                                           kvpb::Request request);
  void FillHeader(etcdserverpb::ResponseHeader* header);

  Backend* const backend_;
  const absl::Duration request_timeout_;
};

}  // namespace raftkv::server::etcd
