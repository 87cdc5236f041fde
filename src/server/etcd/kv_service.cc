#include "server/etcd/kv_service.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "kv/store.h"
#include "kv/validate.h"
#include "server/etcd/grpc_status.h"
#include "server/etcd/session_metadata.h"

namespace raftkv::server::etcd {

KvService::KvService(Backend* backend, absl::Duration request_timeout, KvLimits limits)
    : backend_(backend), request_timeout_(request_timeout), limits_(limits) {}

template <typename Message>
absl::Status KvService::CheckSize(const Message& request) const {
  if (static_cast<int64_t>(request.ByteSizeLong()) > limits_.max_request_bytes) {
    return RequestTooLargeError();
  }
  return absl::OkStatus();
}

absl::Time KvService::Deadline(const ::grpc::CallbackServerContext* context) const {
  return CallDeadline(context, request_timeout_);
}

absl::Status KvService::TagFromMetadata(const ::grpc::CallbackServerContext& context,
                                        kvpb::Request* request) {
  absl::StatusOr<std::optional<SessionTag>> tag = ParseSessionMetadata(context.client_metadata());
  if (!tag.ok()) return tag.status();
  // This member proposes the request, so its clock stamps it (the store has none).
  if (tag->has_value()) TagRequest(**tag, absl::Now(), request);
  return absl::OkStatus();
}

void KvService::FillHeader(etcdserverpb::ResponseHeader* header) {
  const HeaderInfo info = backend_->Header();
  header->set_cluster_id(info.cluster_id);
  header->set_member_id(info.member_id);
  header->set_raft_term(info.raft_term);
}

template <typename Response>
void KvService::Replicate(::grpc::CallbackServerContext* context, kvpb::Request request,
                          Response* response, ::grpc::ServerUnaryReactor* reactor,
                          Response* (*take)(kvpb::Response&), bool wait_for_freed_storage) {
  if (auto status = kv::ValidateRequest(request, limits_.max_txn_ops); !status.ok()) {
    return reactor->Finish(ToGrpcStatus(status));
  }
  const absl::Time deadline = Deadline(context);
  backend_->Write(std::move(request), deadline,
                  [this, response, reactor, take, wait_for_freed_storage,
                   deadline](absl::StatusOr<kvpb::Response> result) {
                    if (!result.ok()) return reactor->Finish(ToGrpcStatus(result.status()));
                    *response = std::move(*take(*result));
                    FillHeader(response->mutable_header());
                    if (wait_for_freed_storage) return FinishWhenCompactionFreed(deadline, reactor);
                    reactor->Finish(::grpc::Status::OK);
                  });
}

void KvService::FinishWhenCompactionFreed(absl::Time deadline,
                                          ::grpc::ServerUnaryReactor* reactor) {
  bool left = false;
  backend_->Read([&](const kv::Store& store) { left = store.compaction_in_progress(); });
  if (!left) return reactor->Finish(::grpc::Status::OK);
  const absl::Time now = absl::Now();
  if (now >= deadline) {
    return reactor->Finish(::grpc::Status(
        ::grpc::StatusCode::DEADLINE_EXCEEDED,
        "etcdserver: the compaction is applied, but this member has not yet freed the storage "
        "it dropped"));
  }
  constexpr absl::Duration kLookAgainAfter = absl::Milliseconds(5);
  auto look_again = [this, deadline, reactor](bool on_time) {
    if (!on_time) return reactor->Finish(ToGrpcStatus(StoppedError()));
    FinishWhenCompactionFreed(deadline, reactor);
  };
  RetryTimer::Fn fn = std::move(look_again);
  if (!compaction_waits_.Schedule(std::min(now + kLookAgainAfter, deadline), std::move(fn))) {
    reactor->Finish(ToGrpcStatus(TooManyRequestsError()));
  }
}

void KvService::WhenReadable(::grpc::CallbackServerContext* context, bool serializable,
                             bool one_key, ::grpc::ServerUnaryReactor* reactor,
                             absl::AnyInvocable<void()> read) {
  if (serializable) return read();
  backend_->WaitLinearizable(Deadline(context), [this, one_key, reactor, read = std::move(read)](
                                                    absl::Status status) mutable {
    if (!status.ok()) return reactor->Finish(ToGrpcStatus(status));
    if (one_key) return read();
    long_reads_.Run(std::move(read));
  });
}

::grpc::ServerUnaryReactor* KvService::Range(::grpc::CallbackServerContext* context,
                                             const etcdserverpb::RangeRequest* request,
                                             etcdserverpb::RangeResponse* response) {
  ::grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status valid = CheckSize(*request);
  if (valid.ok()) valid = kv::ValidateRange(*request);
  if (!valid.ok()) {
    reactor->Finish(ToGrpcStatus(valid));
    return reactor;
  }
  const bool one_key = request->range_end().empty();
  WhenReadable(context, request->serializable(), one_key, reactor,
               [this, request, response, reactor] {
                 absl::StatusOr<etcdserverpb::RangeResponse> result;
                 backend_->Read([&](const kv::Store& store) { result = store.Range(*request); });
                 if (!result.ok()) return reactor->Finish(ToGrpcStatus(result.status()));
                 *response = std::move(*result);
                 FillHeader(response->mutable_header());
                 reactor->Finish(::grpc::Status::OK);
               });
  return reactor;
}

::grpc::ServerUnaryReactor* KvService::Put(::grpc::CallbackServerContext* context,
                                           const etcdserverpb::PutRequest* request,
                                           etcdserverpb::PutResponse* response) {
  ::grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // A put naming a lease is checked by the store when it applies (the lease may be granted or
  // revoked by entries before it), with etcd's "requested lease not found".
  if (absl::Status valid = CheckSize(*request); !valid.ok()) {
    reactor->Finish(ToGrpcStatus(valid));
    return reactor;
  }
  kvpb::Request replicated;
  if (absl::Status tagged = TagFromMetadata(*context, &replicated); !tagged.ok()) {
    reactor->Finish(ToGrpcStatus(tagged));
    return reactor;
  }
  *replicated.mutable_put() = *request;
  Replicate<etcdserverpb::PutResponse>(context, std::move(replicated), response, reactor,
                                       [](kvpb::Response& r) { return r.mutable_put(); });
  return reactor;
}

::grpc::ServerUnaryReactor* KvService::DeleteRange(::grpc::CallbackServerContext* context,
                                                   const etcdserverpb::DeleteRangeRequest* request,
                                                   etcdserverpb::DeleteRangeResponse* response) {
  ::grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status valid = CheckSize(*request); !valid.ok()) {
    reactor->Finish(ToGrpcStatus(valid));
    return reactor;
  }
  kvpb::Request replicated;
  if (absl::Status tagged = TagFromMetadata(*context, &replicated); !tagged.ok()) {
    reactor->Finish(ToGrpcStatus(tagged));
    return reactor;
  }
  *replicated.mutable_delete_range() = *request;
  Replicate<etcdserverpb::DeleteRangeResponse>(
      context, std::move(replicated), response, reactor,
      [](kvpb::Response& r) { return r.mutable_delete_range(); });
  return reactor;
}

::grpc::ServerUnaryReactor* KvService::Txn(::grpc::CallbackServerContext* context,
                                           const etcdserverpb::TxnRequest* request,
                                           etcdserverpb::TxnResponse* response) {
  ::grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  kvpb::Request replicated;
  absl::Status valid = CheckSize(*request);
  if (valid.ok()) valid = kv::ValidateTxn(*request, limits_.max_txn_ops);
  if (valid.ok()) valid = TagFromMetadata(*context, &replicated);
  if (!valid.ok()) {
    reactor->Finish(ToGrpcStatus(valid));
    return reactor;
  }
  if (kv::TxnIsReadOnly(*request)) {
    // Like etcd, a txn that only reads is served as a read: no log entry, no revision change.
    // A session tag has nothing to protect here (a read applies nothing) and is not used.
    WhenReadable(
        context, kv::TxnIsSerializable(*request), /*one_key=*/false, reactor,
        [this, request, response, reactor] {
          absl::StatusOr<etcdserverpb::TxnResponse> result;
          backend_->Read([&](const kv::Store& store) { result = store.ReadTxn(*request); });
          if (!result.ok()) return reactor->Finish(ToGrpcStatus(result.status()));
          *response = std::move(*result);
          FillHeader(response->mutable_header());
          reactor->Finish(::grpc::Status::OK);
        });
    return reactor;
  }
  // A leased put inside the txn is checked by the store, on the taken branch only (as etcd).
  // Only the outer header is complete; etcd's sub-responses carry just the revision.
  *replicated.mutable_txn() = *request;
  Replicate<etcdserverpb::TxnResponse>(context, std::move(replicated), response, reactor,
                                       [](kvpb::Response& r) { return r.mutable_txn(); });
  return reactor;
}

::grpc::ServerUnaryReactor* KvService::Compact(::grpc::CallbackServerContext* context,
                                               const etcdserverpb::CompactionRequest* request,
                                               etcdserverpb::CompactionResponse* response) {
  ::grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  kvpb::Request replicated;
  *replicated.mutable_compaction() = *request;
  // etcd answers a physical compaction once its own backend has dropped the old versions.
  Replicate<etcdserverpb::CompactionResponse>(
      context, std::move(replicated), response, reactor,
      [](kvpb::Response& r) { return r.mutable_compaction(); }, request->physical());
  return reactor;
}

}  // namespace raftkv::server::etcd
