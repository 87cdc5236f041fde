// etcd's KV service (Range, Put, DeleteRange, Txn, Compact) over a Backend.
//
// Writes are validated here (so malformed requests cost no raft round), then replicated with
// Backend::Write; linearizable ranges wait on Backend::WaitLinearizable before reading the local
// store, serializable ones read it at once. Every response gets a full header. A Put,
// DeleteRange or Txn whose call carries a client id and sequence in its metadata is replicated
// with them and this member's time, for the store's client sessions (exactly-once writes:
// session_metadata.h, kv/session.h).
//
// The service uses gRPC's callback API: a call that waits for replication or a read index holds
// no thread. The backend's answer finishes the call from whichever thread gave it (in the server,
// the node thread, which answers a whole batch in one pass); a linearizable read that may be
// long (more than one key) is served by the read executor instead, off that thread.
// Thread-safety: thread-safe; gRPC calls the methods concurrently.
#pragma once

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "kv/errors.h"
#include "server/etcd/backend.h"
#include "server/etcd/read_executor.h"
#include "server/etcd/retry_timer.h"

namespace raftkv::server::etcd {

// etcd's --max-request-bytes and --max-txn-ops.
struct KvLimits {
  int64_t max_request_bytes = kMaxRequestBytes;
  int max_txn_ops = kv::kMaxTxnOps;
};

class KvService final : public etcdserverpb::KV::CallbackService {
 public:
  // `backend` is not owned and must outlive the service. `request_timeout` bounds how long one
  // call waits for replication or a read index when the client set no earlier deadline.
  KvService(Backend* backend, absl::Duration request_timeout, KvLimits limits = {});

  ::grpc::ServerUnaryReactor* Range(::grpc::CallbackServerContext* context,
                                    const etcdserverpb::RangeRequest* request,
                                    etcdserverpb::RangeResponse* response) override;
  ::grpc::ServerUnaryReactor* Put(::grpc::CallbackServerContext* context,
                                  const etcdserverpb::PutRequest* request,
                                  etcdserverpb::PutResponse* response) override;
  ::grpc::ServerUnaryReactor* DeleteRange(::grpc::CallbackServerContext* context,
                                          const etcdserverpb::DeleteRangeRequest* request,
                                          etcdserverpb::DeleteRangeResponse* response) override;
  ::grpc::ServerUnaryReactor* Txn(::grpc::CallbackServerContext* context,
                                  const etcdserverpb::TxnRequest* request,
                                  etcdserverpb::TxnResponse* response) override;
  ::grpc::ServerUnaryReactor* Compact(::grpc::CallbackServerContext* context,
                                      const etcdserverpb::CompactionRequest* request,
                                      etcdserverpb::CompactionResponse* response) override;

 private:
  absl::Time Deadline(const ::grpc::CallbackServerContext* context) const;
  // Replicates `request`; on success `take` moves the store's answer into the response, which
  // then gets its header. Finishes the call either way; with `wait_for_freed_storage`, a
  // success only once FinishWhenCompactionFreed would.
  template <typename Response>
  void Replicate(::grpc::CallbackServerContext* context, kvpb::Request request, Response* response,
                 ::grpc::ServerUnaryReactor* reactor, Response* (*take)(kvpb::Response&),
                 bool wait_for_freed_storage = false);
  // etcd's physical compaction: finishes the call with OK once the local store has freed the
  // storage of every applied compaction (kv::Store::compaction_in_progress), looking again every
  // few milliseconds; with DEADLINE_EXCEEDED at `deadline` if it has not.
  void FinishWhenCompactionFreed(absl::Time deadline, ::grpc::ServerUnaryReactor* reactor);
  // Runs `read` once the local store may serve a read: at once when `serializable`, after the
  // read index otherwise (on the read executor unless `one_key`). `read` finishes the call; an
  // error before it is sent as is.
  void WhenReadable(::grpc::CallbackServerContext* context, bool serializable, bool one_key,
                    ::grpc::ServerUnaryReactor* reactor, absl::AnyInvocable<void()> read);
  void FillHeader(etcdserverpb::ResponseHeader* header);
  // Copies the call's session tag (session_metadata.h), if any, into `request`, stamped with this
  // member's time; INVALID_ARGUMENT for malformed metadata.
  static absl::Status TagFromMetadata(const ::grpc::CallbackServerContext& context,
                                      kvpb::Request* request);
  // etcd's "request is too large" past limits_.max_request_bytes.
  template <typename Message>
  absl::Status CheckSize(const Message& request) const;

  Backend* const backend_;
  const absl::Duration request_timeout_;
  const KvLimits limits_;
  ReadExecutor long_reads_{2};
  // Physical compactions waiting for this member to free the storage (etcd answers one only
  // then); a call waits on the timer, not on a thread.
  RetryTimer compaction_waits_{/*max_pending=*/1024};
};

}  // namespace raftkv::server::etcd
