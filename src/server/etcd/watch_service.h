// etcd's Watch service: one bidirectional stream per call, each carrying many watchers.
//
// Every call becomes a WatchStream (watch_stream.h), registered with the service's WatchHub
// (watch_hub.h), whose one thread delivers events from the store's history. See
// docs/architecture.md, "Watch", for the threads, the notification and the back-pressure.
// Thread-safety: thread-safe; gRPC calls Watch concurrently.
#pragma once

#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "server/etcd/backend.h"
#include "server/etcd/watch_hub.h"
#include "server/etcd/watch_options.h"

namespace raftkv::server::etcd {

class WatchService final : public etcdserverpb::Watch::CallbackService {
 public:
  // `backend` is not owned and must outlive the service. The gRPC server the service is
  // registered on must be shut down before the service is destroyed.
  WatchService(Backend* backend, WatchOptions options);

  ::grpc::ServerBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>* Watch(
      ::grpc::CallbackServerContext* context) override;

  // The watch thread, which also serves the Lock and Election services' waits.
  WatchHub* hub() { return &hub_; }

 private:
  Backend* const backend_;
  const WatchOptions options_;
  WatchHub hub_;
};

}  // namespace raftkv::server::etcd
