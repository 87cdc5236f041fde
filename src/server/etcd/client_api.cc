#include "server/etcd/client_api.h"

#include "grpc/grpc.h"
#include "server/etcd/cluster_service.h"
#include "server/etcd/election_service.h"
#include "server/etcd/kv_service.h"
#include "server/etcd/leader_forwarder.h"
#include "server/etcd/lease_service.h"
#include "server/etcd/lock_service.h"
#include "server/etcd/maintenance_service.h"
#include "server/etcd/watch_service.h"

namespace raftkv::server::etcd {
namespace {

// etcd's allowance for gRPC framing on top of --max-request-bytes.
constexpr int kGrpcOverheadBytes = 512 * 1024;

}  // namespace

ClientApi::ClientApi(Backend* backend, ClientApiOptions options)
    : kv_(std::make_unique<KvService>(backend, options.request_timeout, options.limits)),
      maintenance_(
          std::make_unique<MaintenanceService>(backend, options.version, options.request_timeout)),
      forwarder_(std::make_unique<LeaderForwarder>(backend, absl::Milliseconds(100),
                                                   options.forward_tls)),
      cluster_(std::make_unique<ClusterService>(backend, forwarder_.get(), options.request_timeout)),
      watch_(std::make_unique<WatchService>(backend, options.watch)),
      max_request_bytes_(options.limits.max_request_bytes) {
  // Leases.
  lease_ = std::make_unique<LeaseService>(backend, forwarder_.get(), options.request_timeout);
  // etcd's concurrency services.
  lock_ = std::make_unique<LockService>(backend, watch_->hub(), options.request_timeout);
  election_ = std::make_unique<ElectionService>(backend, watch_->hub(), options.request_timeout);
}

ClientApi::~ClientApi() = default;

void ClientApi::Configure(grpc::ServerBuilder& builder) {
  builder.RegisterService(kv_.get());
  builder.RegisterService(maintenance_.get());
  builder.RegisterService(cluster_.get());
  builder.RegisterService(lease_.get());
  builder.RegisterService(watch_.get());
  builder.RegisterService(lock_.get());
  builder.RegisterService(election_.get());
  ConfigureClientLimits(builder, max_request_bytes_);
}

void ConfigureClientLimits(grpc::ServerBuilder& builder, int64_t max_request_bytes) {
  builder.SetMaxReceiveMessageSize(static_cast<int>(max_request_bytes) + kGrpcOverheadBytes);
  builder.SetMaxSendMessageSize(-1);
  // clientv3 pings idle connections; etcd accepts pings every 5 s even without active calls.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
}

}  // namespace raftkv::server::etcd
