#include "server/etcd/kv_service.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "kv/store.h"
#include "kv/validate.h"
#include "server/etcd/grpc_status.h"

namespace raftkv::server::etcd {
namespace {

// Rejected before replication: raftkv grants no leases, and the store would reject it anyway,
// only after a raft round trip.
absl::Status CheckNoLease(const etcdserverpb::PutRequest& put) {
  if (put.lease() != 0) return absl::NotFoundError("etcdserver: requested lease not found");
  return absl::OkStatus();
}

template <typename Message>
absl::Status CheckSize(const Message& request) {
  if (static_cast<int64_t>(request.ByteSizeLong()) > kMaxRequestBytes) {
    return RequestTooLargeError();
  }
  return absl::OkStatus();
}

}  // namespace

KvService::KvService(Backend* backend, absl::Duration request_timeout)
    : backend_(backend), request_timeout_(request_timeout) {}

absl::Time KvService::Deadline(const ::grpc::ServerContext* context) const {
  return CallDeadline(context, request_timeout_);
}

void KvService::FillHeader(etcdserverpb::ResponseHeader* header) {
  const HeaderInfo info = backend_->Header();
  header->set_cluster_id(info.cluster_id);
  header->set_member_id(info.member_id);
  header->set_raft_term(info.raft_term);
}

absl::StatusOr<kvpb::Response> KvService::Replicate(const ::grpc::ServerContext* context,
                                                    kvpb::Request request) {
  if (auto status = kv::ValidateRequest(request); !status.ok()) return status;
  return backend_->Write(std::move(request), Deadline(context));
}

::grpc::Status KvService::Range(::grpc::ServerContext* context,
                                const etcdserverpb::RangeRequest* request,
                                etcdserverpb::RangeResponse* response) {
  if (auto status = CheckSize(*request); !status.ok()) return ToGrpcStatus(status);
  if (auto status = kv::ValidateRange(*request); !status.ok()) return ToGrpcStatus(status);
  if (!request->serializable()) {
    if (auto status = backend_->WaitLinearizable(Deadline(context)); !status.ok()) {
      return ToGrpcStatus(status);
    }
  }
  absl::StatusOr<etcdserverpb::RangeResponse> result;
  backend_->Read([&](const kv::Store& store) { result = store.Range(*request); });
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(*result);
  FillHeader(response->mutable_header());
  return ::grpc::Status::OK;
}

::grpc::Status KvService::Put(::grpc::ServerContext* context,
                              const etcdserverpb::PutRequest* request,
                              etcdserverpb::PutResponse* response) {
  if (auto status = CheckSize(*request); !status.ok()) return ToGrpcStatus(status);
  if (auto status = CheckNoLease(*request); !status.ok()) return ToGrpcStatus(status);
  kvpb::Request replicated;
  *replicated.mutable_put() = *request;
  auto result = Replicate(context, std::move(replicated));
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(*result->mutable_put());
  FillHeader(response->mutable_header());
  return ::grpc::Status::OK;
}

::grpc::Status KvService::DeleteRange(::grpc::ServerContext* context,
                                      const etcdserverpb::DeleteRangeRequest* request,
                                      etcdserverpb::DeleteRangeResponse* response) {
  if (auto status = CheckSize(*request); !status.ok()) return ToGrpcStatus(status);
  kvpb::Request replicated;
  *replicated.mutable_delete_range() = *request;
  auto result = Replicate(context, std::move(replicated));
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(*result->mutable_delete_range());
  FillHeader(response->mutable_header());
  return ::grpc::Status::OK;
}

::grpc::Status KvService::Txn(::grpc::ServerContext* context,
                              const etcdserverpb::TxnRequest* request,
                              etcdserverpb::TxnResponse* response) {
  if (auto status = CheckSize(*request); !status.ok()) return ToGrpcStatus(status);
  if (kv::TxnIsReadOnly(*request)) {
    // Like etcd, a txn that only reads is served as a read: no log entry, no revision change.
    if (!kv::TxnIsSerializable(*request)) {
      if (auto status = backend_->WaitLinearizable(Deadline(context)); !status.ok()) {
        return ToGrpcStatus(status);
      }
    }
    absl::StatusOr<etcdserverpb::TxnResponse> result;
    backend_->Read([&](const kv::Store& store) { result = store.ReadTxn(*request); });
    if (!result.ok()) return ToGrpcStatus(result.status());
    *response = std::move(*result);
    FillHeader(response->mutable_header());
    return ::grpc::Status::OK;
  }
  // A leased put inside the txn is left to the store: etcd only rejects it on the taken branch.
  kvpb::Request replicated;
  *replicated.mutable_txn() = *request;
  auto result = Replicate(context, std::move(replicated));
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(*result->mutable_txn());
  // Only the outer header is complete; etcd's sub-responses carry just the revision.
  FillHeader(response->mutable_header());
  return ::grpc::Status::OK;
}

::grpc::Status KvService::Compact(::grpc::ServerContext* context,
                                  const etcdserverpb::CompactionRequest* request,
                                  etcdserverpb::CompactionResponse* response) {
  kvpb::Request replicated;
  *replicated.mutable_compaction() = *request;
  auto result = Replicate(context, std::move(replicated));
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(*result->mutable_compaction());
  FillHeader(response->mutable_header());
  return ::grpc::Status::OK;
}

}  // namespace raftkv::server::etcd
