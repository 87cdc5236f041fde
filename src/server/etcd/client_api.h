// The etcd v3 client API of one member, ready to mount on a gRPC server.
//
// Usage by the server binary:
//   etcd::ClientApi api(&node, {});
//   grpc::ServerBuilder builder;
//   builder.AddListeningPort("127.0.0.1:2379", grpc::InsecureServerCredentials());
//   api.Configure(builder);   // registers KV, Watch, Lease, Maintenance, Cluster, Lock,
//                             // Election; limits
//   auto server = builder.BuildAndStart();
// Auth is not registered, so gRPC answers its calls with UNIMPLEMENTED. The server
// must be shut down before the ClientApi is destroyed (the watch thread ends with it).
// Thread-safety: Configure once; afterwards the services are used concurrently by gRPC.
#pragma once

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/server_builder.h"
#include "server/etcd/backend.h"
#include "server/etcd/kv_service.h"
#include "server/etcd/watch_options.h"

namespace raftkv::server::etcd {

class KvService;
class MaintenanceService;
class ClusterService;
class ElectionService;
class LeaderForwarder;
class LeaseService;
class LockService;
class WatchService;

struct ClientApiOptions {
  // How long a write or a linearizable read may wait for raft when the client gave no earlier
  // deadline; afterwards the client gets "etcdserver: request timed out" from the Backend.
  absl::Duration request_timeout = absl::Seconds(5);
  // The etcd API version announced by Maintenance/Status.
  std::string version = "3.4.0";
  // Watch: the progress notification interval (etcd's default, 10 minutes) and the per-stream
  // bounds.
  WatchOptions watch;
  // etcd's --max-request-bytes and --max-txn-ops.
  KvLimits limits;
  // For calls forwarded to a leader's https:// client URL (see LeaderForwarder).
  std::shared_ptr<grpc::ChannelCredentials> forward_tls;
};

class ClientApi {
 public:
  // `backend` is not owned and must outlive every server this API is mounted on.
  ClientApi(Backend* backend, ClientApiOptions options);
  ~ClientApi();
  ClientApi(const ClientApi&) = delete;
  ClientApi& operator=(const ClientApi&) = delete;

  // Registers the services on `builder` and applies the client-facing limits (see
  // ConfigureClientLimits). The ClientApi must outlive the built server.
  void Configure(grpc::ServerBuilder& builder);

 private:
  std::unique_ptr<KvService> kv_;
  std::unique_ptr<MaintenanceService> maintenance_;
  // Shared by the services that send calls to the leader (Cluster, Lease).
  std::unique_ptr<LeaderForwarder> forwarder_;
  std::unique_ptr<ClusterService> cluster_;
  std::unique_ptr<LeaseService> lease_;
  std::unique_ptr<WatchService> watch_;
  // Lock and Election wait on the watch thread, so they are destroyed before it.
  std::unique_ptr<LockService> lock_;
  std::unique_ptr<ElectionService> election_;
  const int64_t max_request_bytes_;
};

// etcd's transport settings for client connections: a receive limit of the largest request
// (`max_request_bytes`) plus gRPC framing headroom, so that a slightly too large request reaches
// the service and gets etcd's "request is too large" instead of a transport error; unlimited
// send; and tolerant keepalive so clientv3's pings are not answered with GOAWAY.
void ConfigureClientLimits(grpc::ServerBuilder& builder,
                           int64_t max_request_bytes = kMaxRequestBytes);

}  // namespace raftkv::server::etcd
