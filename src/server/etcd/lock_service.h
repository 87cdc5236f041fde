// etcd's v3lock service (v3lockpb.Lock: Lock, Unlock) with the semantics of etcd 3.4's
// etcdserver/api/v3lock, which runs concurrency.Mutex on the server:
//
//   Lock: the lock's key is "<name>/<lease hex>" (a new 60-second lease when the request's is
//   0). One txn puts it with the lease if it does not exist (or finds it, when this lease
//   already waits for or holds the lock) and reads the oldest key under "<name>/". If that is
//   ours, the lock is held at once; otherwise the call waits (TurnWaiter) until every key
//   created before ours is deleted, and answers the header of the read that saw it.
//   Unlock: deletes the key.
//
// A waiting Lock ends when the client cancels or its deadline passes (its key is deleted, as
// the Mutex's cleanup does), when its key disappears because the lease expired ("session
// expired", etcd 3.5's answer), or when the member stops. Nothing blocks a thread while a Lock
// waits: writes answer through callbacks, the wait is a StoreWaiter on the watch thread.
//
// Thread-safety: thread-safe; gRPC calls the methods concurrently.
#pragma once

#include "absl/time/time.h"
#include "etcd/etcdserver/api/v3lock/v3lockpb/v3lock.grpc.pb.h"
#include "server/etcd/backend.h"
#include "server/etcd/watch_hub.h"

namespace raftkv::server::etcd {

class LockService final : public v3lockpb::Lock::CallbackService {
 public:
  // `backend` and `hub` are not owned and must outlive the service. `request_timeout` bounds
  // each write a call makes (the wait itself is bounded only by the client's deadline).
  LockService(Backend* backend, WatchHub* hub, absl::Duration request_timeout);

  ::grpc::ServerUnaryReactor* Lock(::grpc::CallbackServerContext* context,
                                   const v3lockpb::LockRequest* request,
                                   v3lockpb::LockResponse* response) override;
  ::grpc::ServerUnaryReactor* Unlock(::grpc::CallbackServerContext* context,
                                     const v3lockpb::UnlockRequest* request,
                                     v3lockpb::UnlockResponse* response) override;

 private:
  class LockCall;
  void FillHeader(etcdserverpb::ResponseHeader* header, int64_t revision);

  Backend* const backend_;
  WatchHub* const hub_;
  const absl::Duration request_timeout_;
};

}  // namespace raftkv::server::etcd
