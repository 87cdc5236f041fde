// One raftkv-server process: the data directory, the raft log, the node driver, the peer
// transport, and the etcd v3 API on the client URLs, put together from the flags.
//
// Start order: lock the data directory; read the membership file from it, or (first start)
// plan it from --initial-cluster — or, with --initial-cluster-state existing, fetch it from the
// running members — and write it; open the log; listen for peers; create the driver; start the
// node thread; listen for clients. Stop reverses it.
//
// Thread-safety: Start/Stop from one thread (main). The parts run their own threads.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/metrics.h"
#include "io/env.h"
#include "node/checkpoint_installer.h"
#include "node/durable_log_store.h"
#include "server/checkpoint_source.h"
#include "server/data_dir.h"
#include "server/engine_files.h"
#include "server/etcd/client_api.h"
#include "server/etcd_backend.h"
#include "server/flags.h"
#include "server/http/http_server.h"
#include "server/locked_applier.h"
#include "server/membership.h"
#include "server/node_thread.h"
#include "server/peer_network.h"
#include "spdlog/spdlog.h"
#include "transport/grpc_transport.h"

namespace grpc {
class Server;
}  // namespace grpc

namespace raftkv::server {

class Server {
 public:
  // REQUIRES: ValidateFlags(flags).ok(). Errors say what to fix: a locked data directory,
  // --initial-cluster-state existing for a member the cluster does not know or cannot be
  // reached, an address already in use. `on_removed` (may be empty) is called once, from a
  // server thread, when this member is removed from the cluster; it must not block.
  static absl::StatusOr<std::unique_ptr<Server>> Start(const ServerFlags& flags,
                                                       std::shared_ptr<spdlog::logger> logger,
                                                       std::function<void()> on_removed = {});
  ~Server();

  // Stops serving clients, then the node, then the transport. Idempotent.
  void Stop();

  NodeThread& node_thread() { return *node_thread_; }
  uint64_t member_id() const { return membership_->local_id(); }

 private:
  Server(DataDir data_dir, std::shared_ptr<spdlog::logger> logger)
      : data_dir_(std::move(data_dir)), logger_(std::move(logger)) {}

  DataDir data_dir_;
  std::shared_ptr<spdlog::logger> logger_;
  // What /metrics shows; first, because the parts below record into it until they are gone.
  base::Registry metrics_;
  // The file system as the raft log sees it: the real one, with fsyncs timed.
  std::unique_ptr<io::Env> data_env_;
  std::unique_ptr<raft::Logger> raft_logger_;
  std::unique_ptr<Membership> membership_;
  // Declared in the order they depend on each other: the driver (in the node thread) uses the
  // log store, the applied state and the network; the network sends through the transport.
  std::unique_ptr<node::DurableLogStore> log_store_;
  // The engine's directory and the checkpoints beside it; the applied state installs received
  // checkpoints through the installer, and the transport sends checkpoints from the source.
  std::unique_ptr<EngineFiles> engine_files_;
  std::unique_ptr<node::CheckpointInstaller> checkpoint_installer_;
  std::unique_ptr<LockedApplier> applied_state_;
  std::unique_ptr<EngineCheckpointSource> checkpoint_source_;
  std::unique_ptr<transport::GrpcTransport> transport_;
  std::unique_ptr<PeerNetwork> network_;
  std::unique_ptr<NodeThread> node_thread_;
  std::unique_ptr<EtcdBackend> backend_;
  // Runs the automatic compaction the flags ask for (null when they ask for none).
  std::unique_ptr<etcd::AutoCompactionThread> auto_compaction_;
  std::unique_ptr<etcd::ClientApi> client_api_;
  std::unique_ptr<grpc::Server> client_server_;
  // /health, /version and /metrics on the --listen-metrics-urls (none when it is empty).
  std::vector<std::unique_ptr<http::HttpServer>> http_servers_;
  bool stopped_ = false;
};

}  // namespace raftkv::server
