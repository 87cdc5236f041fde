#include "server/server.h"

#include <algorithm>
#include <atomic>
#include <future>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "fmt/format.h"
#include "grpcpp/grpcpp.h"
#include "io/env.h"
#include "io/sync_timing_env.h"
#include "kv/memory_engine.h"
#include "kv/rocksdb_engine.h"
#include "kv/store.h"
#include "node/force_new_cluster.h"
#include "node/state_reference.h"
#include "server/checkpoint_installers.h"
#include "server/cluster_status.h"
#include "server/etcd/auto_compactor.h"
#include "server/etcd/client_api.h"
#include "server/grpc_metrics.h"
#include "server/raft_logger.h"
#include "server/server_metrics.h"
#include "server/server_tls.h"
#include "server/url.h"

namespace raftkv::server {
namespace {

// A member added at run time (`etcdctl member add`) starting for the first time: asks the
// other members listed in --initial-cluster for the cluster, and finds itself in it by its
// --initial-advertise-peer-urls.
// `peer_credentials`: the peer channels' (TLS under https:// peer URLs).
absl::StatusOr<peerpb::ClusterFile> JoinCluster(
    const ServerFlags& flags, const std::shared_ptr<grpc::ChannelCredentials>& peer_credentials,
    spdlog::logger& log) {
  absl::StatusOr<std::map<std::string, std::vector<std::string>>> listed =
      ParseInitialCluster(flags.initial_cluster);
  if (!listed.ok()) return listed.status();
  const std::vector<std::string> own_urls = *ParseUrlList(flags.initial_advertise_peer_urls);
  std::optional<peerpb::MembersResponse> cluster;
  std::vector<std::string> tried;
  for (const auto& [name, urls] : *listed) {
    if (name == flags.name) continue;
    for (const std::string& url : urls) {
      absl::StatusOr<HostPort> address = ParseUrl(url);
      if (!address.ok()) continue;
      absl::StatusOr<peerpb::MembersResponse> answer =
          transport::FetchMembers(address->ToString(), absl::Seconds(3),
                                  peer_credentials);
      if (answer.ok()) {
        cluster = std::move(*answer);
        break;
      }
      log.warn("{}", std::string(answer.status().message()));
      tried.push_back(url);
    }
    if (cluster.has_value()) break;
  }
  if (!cluster.has_value()) {
    return absl::UnavailableError(absl::StrCat(
        "--initial-cluster-state existing: no other member of --initial-cluster answered (tried ",
        tried.empty() ? "none: list the running members too" : absl::StrJoin(tried, ", "),
        "); start this member once the cluster is up, or use --initial-cluster-state new to "
        "found a new cluster"));
  }
  peerpb::ClusterFile file;
  file.set_cluster_id(cluster->cluster_id());
  file.set_joined(true);
  for (const peerpb::Member& m : cluster->members()) {
    *file.add_members() = m;
    for (const std::string& url : m.peer_urls()) {
      if (std::find(own_urls.begin(), own_urls.end(), url) == own_urls.end()) continue;
      if (!m.name().empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "member ", absl::Hex(m.id()), " with peer URL ", url, " already started as '", m.name(),
            "'; restart it with its own --data-dir instead of joining again"));
      }
      file.set_member_id(m.id());
    }
  }
  if (file.member_id() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cluster ", absl::Hex(cluster->cluster_id()), " has no member with peer URL ",
        flags.initial_advertise_peer_urls, "; add it first (etcdctl member add ", flags.name,
        " --peer-urls=", flags.initial_advertise_peer_urls, "), then start it"));
  }
  return file;
}

// The founding membership: read back on a restart (the --initial-cluster flags are then
// ignored, as etcd ignores them), planned from the flags and written on the first start.
absl::StatusOr<peerpb::ClusterFile> LoadOrPlanCluster(
    const ServerFlags& flags, const DataDir& data_dir,
    const std::shared_ptr<grpc::ChannelCredentials>& peer_credentials, spdlog::logger& log) {
  absl::StatusOr<peerpb::ClusterFile> existing = ReadClusterFile(data_dir.cluster_file());
  if (existing.ok()) {
    log.info(
        "restarting member {:x} of cluster {:x} from {}; the --initial-cluster* flags "
        "are ignored",
        existing->member_id(), existing->cluster_id(), data_dir.path());
    return existing;
  }
  if (existing.status().code() != absl::StatusCode::kNotFound) return existing.status();
  if (flags.initial_cluster_state == "existing") {
    absl::StatusOr<peerpb::ClusterFile> joined = JoinCluster(flags, peer_credentials, log);
    if (!joined.ok()) return joined.status();
    if (absl::Status s = WriteClusterFile(data_dir.cluster_file(), *joined); !s.ok()) return s;
    log.info("joining cluster {:x} as member {:x} ({} members) in {}", joined->cluster_id(),
             joined->member_id(), joined->members_size(), data_dir.path());
    return joined;
  }
  absl::StatusOr<peerpb::ClusterFile> planned = PlanCluster(flags);
  if (!planned.ok()) return planned.status();
  if (absl::Status s = WriteClusterFile(data_dir.cluster_file(), *planned); !s.ok()) return s;
  log.info("founding member {:x} of cluster {:x} with {} members in {}", planned->member_id(),
           planned->cluster_id(), planned->members_size(), data_dir.path());
  return planned;
}

etcd::ClientApiOptions ClientApiOptionsFor(const ServerFlags& flags) {
  etcd::ClientApiOptions options;
  options.limits.max_request_bytes = flags.max_request_bytes;
  options.limits.max_txn_ops = flags.max_txn_ops;
  return options;
}

// etcd's health check: a linearizable read (a ReadIndex round through the leader) that must
// succeed within `timeout`. Waits on the calling thread (an HTTP worker).
bool QuorumReadSucceeds(EtcdBackend& backend, absl::Duration timeout) {
  auto answer = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> done = answer->get_future();
  backend.WaitLinearizable(absl::Now() + timeout,
                           [answer](absl::Status status) { answer->set_value(std::move(status)); });
  // The backend answers by the deadline, at the latest on the tick after it.
  if (done.wait_for(absl::ToChronoNanoseconds(timeout + absl::Seconds(1))) !=
      std::future_status::ready) {
    return false;
  }
  return done.get().ok();
}

node::DriverOptions MakeDriverOptions(const ServerFlags& flags, uint64_t member_id,
                                      node::LogStore& log_store, raft::Logger* raft_logger,
                                      std::function<void()> on_removed) {
  node::DriverOptions options;
  options.id = member_id;
  options.name = flags.name;
  options.client_urls = *ParseUrlList(flags.advertise_client_urls);
  options.election_ticks =
      static_cast<int>(flags.election_timeout_ms / flags.heartbeat_interval_ms);
  options.snapshot_count = flags.snapshot_count;
  // On disk a snapshot is a Sync and a small reference (docs/storage.md), so large entries may
  // trigger one too: a restart then reads at most about twice this much log, however many
  // puts each entry carries.
  if (flags.engine != "memory") options.snapshot_bytes = uint64_t{256} << 20;
  options.pre_vote = flags.pre_vote;
  // Lease TTLs are seconds; the driver counts them in ticks of the heartbeat interval.
  options.tick_millis = static_cast<uint64_t>(flags.heartbeat_interval_ms);
  options.snapshot_catchup_entries = std::min<uint64_t>(5000, flags.snapshot_count);
  // Request ids: the low 16 bits of the member id, then the start time in milliseconds, then a
  // counter, as etcd does, so that ids differ between members and across restarts.
  const uint64_t now_ms = static_cast<uint64_t>(absl::ToUnixMillis(absl::Now()));
  options.request_id_base = ((member_id & 0xFFFF) << 48) | ((now_ms & 0xFFFFFFFFFF) << 8);
  // Members (and one member across restarts) draw different election timeouts.
  absl::StatusOr<raftpb::Snapshot> snapshot = log_store.storage().Snapshot();
  options.random_seed = member_id ^ (snapshot.ok() ? snapshot->metadata().index() : 0);
  options.logger = raft_logger;
  options.on_removed = std::move(on_removed);
  options.quota_bytes = QuotaBytesOf(flags);
  return options;
}

// The key-value state on the engine --engine names: RocksDB reopens at the entry it applied
// last (the driver replays only the raft entries after it); memory starts empty. A snapshot
// that arrives as the files of a checkpoint is installed by `checkpoints`.
absl::StatusOr<std::unique_ptr<node::StoreApplier>> OpenAppliedState(
    const ServerFlags& flags, const DataDir& data_dir, node::CheckpointInstaller* checkpoints,
    spdlog::logger& log) {
  if (flags.engine == "memory") {
    log.info("key-value engine: memory (the state is rebuilt from the raft log on every start)");
    return node::StoreApplier::Open(std::make_unique<kv::MemoryEngine>(), checkpoints);
  }
  absl::StatusOr<std::unique_ptr<kv::RocksDbEngine>> engine =
      kv::RocksDbEngine::Open(data_dir.kv_dir());
  if (!engine.ok()) return engine.status();
  const kv::EngineMeta meta = (*engine)->meta();
  log.info("key-value engine: rocksdb in {}, at applied index {} (revision {}){}",
           data_dir.kv_dir(), meta.applied_index, meta.revision,
           (*engine)->compaction_in_progress()
               ? fmt::format("; the compaction at revision {} is still deleting old versions, "
                             "which it goes on with between entries",
                             meta.compact_revision)
               : std::string());
  return node::StoreApplier::Open(*std::move(engine), checkpoints);
}

// Received checkpoints are kept only while a snapshot may still need one: the one the raft
// log's snapshot refers to, if the state has not installed it yet.
void PruneReceivedCheckpoints(EngineFiles& files, node::LogStore& log_store, uint64_t applied) {
  std::optional<uint64_t> needed;
  absl::StatusOr<raftpb::Snapshot> snapshot = log_store.storage().Snapshot();
  if (snapshot.ok() && snapshot->metadata().index() > applied) {
    needed = node::ReferencedCheckpoint(snapshot->data());
  }
  files.PruneReceived(needed, std::numeric_limits<uint64_t>::max());
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const ServerFlags& given_flags,
                                                      std::shared_ptr<spdlog::logger> logger,
                                                      std::function<void()> on_removed) {
  absl::StatusOr<DataDir> data_dir = DataDir::Open(given_flags.data_dir);
  if (!data_dir.ok()) return data_dir.status();
  // --auto-tls and --peer-auto-tls: the generated certificates stand in for the files.
  absl::StatusOr<ServerFlags> with_certificates = WithAutoTls(given_flags, *logger);
  if (!with_certificates.ok()) return with_certificates.status();
  const ServerFlags& flags = *with_certificates;
  absl::StatusOr<TlsCredentials> tls = MakeTlsCredentials(flags);
  if (!tls.ok()) return tls.status();
  std::unique_ptr<Server> server(new Server(std::move(*data_dir), logger));
  spdlog::logger& log = *logger;

  absl::StatusOr<peerpb::ClusterFile> cluster = LoadOrPlanCluster(flags, server->data_dir_, tls->peer_channel, log);
  if (!cluster.ok()) return cluster.status();
  server->membership_ = std::make_unique<Membership>(*cluster);

  // A founder's log starts with the founding configuration; a member that joined a running
  // cluster starts empty and receives the configuration with the leader's log.
  std::vector<peerpb::Member> founders;
  if (!cluster->joined()) founders.assign(cluster->members().begin(), cluster->members().end());
  // The raft log lives beside the membership file; it is fsynced before any vote or
  // acknowledgement that depends on it leaves this member.
  server->raft_logger_ = std::make_unique<RaftLogger>(logger);
  storage::DurableStorageOptions storage_options;
  storage_options.wal.logger = server->raft_logger_.get();
  // The log's files go through an Env that times their fsyncs; the WAL segments' feed etcd's
  // etcd_disk_wal_fsync_duration_seconds, the snapshot files' raftkv's snapshot histogram.
  server->data_env_ = std::make_unique<io::SyncTimingEnv>(
      io::Env::Default(), [fsync = WalFsyncHistogram(server->metrics_),
                           snapshot_fsync = SnapshotFsyncHistogram(server->metrics_)](
                              const std::string& path, absl::Duration elapsed) {
        // A segment is created as wal-<seq>.log.tmp and renamed; its handle keeps that name.
        if (absl::StrContains(path, "/wal-")) {
          fsync->Observe(absl::ToDoubleSeconds(elapsed));
        } else if (absl::StrContains(path, "/snap-")) {
          snapshot_fsync->Observe(absl::ToDoubleSeconds(elapsed));
        }
      });
  absl::StatusOr<std::unique_ptr<node::DurableLogStore>> log_store = node::DurableLogStore::Open(
      server->data_env_.get(), server->data_dir_.member_dir() + "/raft", founders,
      storage_options);
  if (!log_store.ok()) return log_store.status();
  server->log_store_ = std::move(*log_store);
  if (flags.force_new_cluster) {
    absl::StatusOr<node::ForcedCluster> forced =
        node::ForceNewCluster(server->log_store_->durable(), cluster->member_id());
    if (!forced.ok()) return forced.status();
    log.warn(
        "--force-new-cluster: member {:x} now forms cluster {:x} alone; removed {} other "
        "member(s) through the log and dropped {} uncommitted entries. Do not restart the "
        "removed members with their old data; add new members with `member add`.",
        cluster->member_id(), cluster->cluster_id(), forced->removed.size(),
        forced->dropped_uncommitted);
  }
  // An install of a received checkpoint that a crash interrupted is finished or undone before
  // the engine opens.
  server->engine_files_ = std::make_unique<EngineFiles>(server->data_dir_.member_dir(), logger);
  if (absl::Status s = server->engine_files_->Recover(); !s.ok()) return s;
  if (flags.engine == "memory") {
    server->checkpoint_installer_ =
        std::make_unique<MemoryCheckpointInstaller>(server->engine_files_.get());
  } else {
    server->checkpoint_installer_ =
        std::make_unique<RocksDbCheckpointInstaller>(server->engine_files_.get());
  }
  absl::StatusOr<std::unique_ptr<node::StoreApplier>> state =
      OpenAppliedState(flags, server->data_dir_, server->checkpoint_installer_.get(), log);
  if (!state.ok()) return state.status();
  PruneReceivedCheckpoints(*server->engine_files_, *server->log_store_, (*state)->applied_index());
  server->applied_state_ = std::make_unique<LockedApplier>(*std::move(state));
  server->checkpoint_source_ = std::make_unique<EngineCheckpointSource>(
      server->applied_state_.get(), server->engine_files_.get(), logger);

  // Removal is reported twice over (the member applies it, or a peer refuses its traffic);
  // the server leaves once.
  auto leave = [log = logger, on_removed = std::move(on_removed),
                left = std::make_shared<std::atomic<bool>>(false)](const std::string& why) {
    if (left->exchange(true)) return;
    log->warn("this member was removed from the cluster ({}); shutting down", why);
    if (on_removed) on_removed();
  };

  NodeThreadOptions thread_options;
  thread_options.tick_interval = absl::Milliseconds(flags.heartbeat_interval_ms);
  thread_options.logger = logger;
  thread_options.on_removed_from_cluster = [leave](uint64_t peer_id) {
    leave(fmt::format("member {:x} refuses its traffic as a removed member's", peer_id));
  };
  server->node_thread_ = std::make_unique<NodeThread>(thread_options);

  transport::GrpcTransportOptions transport_options;
  transport_options.cluster_id = cluster->cluster_id();
  transport_options.local_id = cluster->member_id();
  transport_options.logger = logger;
  // One peer message may carry a whole client request: keep room for the largest one allowed.
  transport_options.max_receive_message_bytes =
      std::max<size_t>(transport_options.max_receive_message_bytes,
                       2 * static_cast<size_t>(flags.max_request_bytes) + (8 << 20));
  transport_options.members = [membership = server->membership_.get()] {
    return membership->List();
  };
  transport_options.is_removed = [membership = server->membership_.get()](uint64_t id) {
    return membership->WasRemoved(id);
  };
  transport_options.server_credentials = tls->peer_server;
  transport_options.channel_credentials = tls->peer_channel;
  transport_options.allowed_peer_cn = flags.peer_cert_allowed_cn;
  // Validated with the other flags before the server is built.
  const SnapshotTransferTimes snapshot_times = SnapshotTransferTimesOf(flags).value();
  transport_options.snapshot_timeout = snapshot_times.send_timeout;
  transport_options.keep_checkpoint_for = snapshot_times.keep_for;
  transport_options.on_round_trip = PeerRoundTripRecorder(server->metrics_);
  // Snapshots of the state on disk go out as checkpoints of the engine, and come in as files
  // kept in the member directory until they are installed.
  transport_options.checkpoint_source = server->checkpoint_source_.get();
  transport_options.received_checkpoints.dir = server->data_dir_.member_dir();
  server->transport_ =
      std::make_unique<transport::GrpcTransport>(transport_options, server->node_thread_.get());
  // One peer listener: etcd allows several, raftkv serves the first URL.
  const std::vector<std::string> peer_urls = *ParseUrlList(flags.listen_peer_urls);
  absl::StatusOr<int> peer_port = server->transport_->Start(ParseUrl(peer_urls[0])->ToString());
  if (!peer_port.ok()) return peer_port.status();
  log.info("listening for peers on {}", peer_urls[0]);
  server->network_ = std::make_unique<PeerNetwork>(server->transport_.get(),
                                                   server->membership_.get(), logger.get());
  if (absl::Status s = server->network_->ConnectKnownMembers(server->membership_->List());
      !s.ok()) {
    return s;
  }

  node::DriverOptions driver_options =
      MakeDriverOptions(flags, cluster->member_id(), *server->log_store_,
                        server->raft_logger_.get(), [leave] { leave("it applied its own removal"); });
  driver_options.metrics = RegisterDriverMetrics(server->metrics_);
  absl::StatusOr<std::unique_ptr<node::Driver>> driver =
      node::Driver::Create(std::move(driver_options), server->log_store_.get(),
                           server->applied_state_.get(), server->network_.get());
  if (!driver.ok()) return driver.status();
  server->node_thread_->Start(std::move(*driver));
  server->backend_ = std::make_unique<EtcdBackend>(
      server->node_thread_.get(), server->applied_state_.get(), server->membership_.get(), logger);
  server->backend_->set_max_request_bytes(flags.max_request_bytes);
  RegisterServerMetrics(server->metrics_, server->node_thread_.get(), server->backend_.get(),
                        [backend = server->backend_.get()] {
                          return static_cast<double>(backend->Info().db_size_bytes);
                        });
  // etcd's automatic compaction: on its schedule the leader proposes a Compaction request.
  absl::StatusOr<std::optional<etcd::AutoCompactionPolicy>> compaction =
      AutoCompactionPolicyOf(flags);
  if (!compaction.ok()) return compaction.status();
  if (compaction->has_value()) {
    server->auto_compaction_ = std::make_unique<etcd::AutoCompactionThread>(
        std::make_unique<etcd::AutoCompactor>(
            server->backend_.get(), **compaction, absl::Now(),
            [logger](const std::string& line) { logger->info("{}", line); }));
  }

  grpc::ServerBuilder builder;
  // Every client call is counted by service, method and status code for /metrics.
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<GrpcMetricsInterceptorFactory>(&server->metrics_));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::vector<int> ports;
  std::vector<std::string> client_urls = *ParseUrlList(flags.listen_client_urls);
  ports.resize(client_urls.size());
  for (size_t i = 0; i < client_urls.size(); ++i) {
    const HostPort where = *ParseUrl(client_urls[i]);
    builder.AddListeningPort(where.ToString(),
                             where.tls ? tls->client_server : grpc::InsecureServerCredentials(),
                             &ports[i]);
  }
  // KV, Maintenance and Cluster, with etcd's message limits and keepalive tolerance.
  etcd::ClientApiOptions client_api_options = ClientApiOptionsFor(flags);
  client_api_options.forward_tls = tls->client_channel;
  server->client_api_ =
      std::make_unique<etcd::ClientApi>(server->backend_.get(), client_api_options);
  server->client_api_->Configure(builder);
  server->client_server_ = builder.BuildAndStart();
  for (size_t i = 0; i < ports.size(); ++i) {
    if (server->client_server_ == nullptr || ports[i] == 0) {
      return absl::UnavailableError(absl::StrCat("cannot listen for clients on ", client_urls[i],
                                                 ": the address is in use or not local (check "
                                                 "--listen-client-urls)"));
    }
    log.info("serving etcd v3 clients on {}", client_urls[i]);
  }
  if (!flags.listen_metrics_urls.empty()) {
    NodeThread* node = server->node_thread_.get();
    EtcdBackend* backend = server->backend_.get();
    const std::string version = etcd::ClientApiOptions{}.version;
    http::EndpointSources sources{
        .leader = [node] { return node->leader(); },
        // etcd's /health is false while any alarm (NOSPACE) is raised.
        .alarm_active =
            [backend] {
              bool raised = false;
              backend->Read([&](const kv::Store& store) { raised = !store.Alarms().empty(); });
              return raised;
            },
        .quorum_read = [backend] { return QuorumReadSucceeds(*backend, absl::Seconds(1)); },
        .registry = &server->metrics_,
        .status_json =
            [backend, node, fsync = WalFsyncHistogram(server->metrics_),
             tls = tls->client_channel] {
              return StatusJson(
                  CollectClusterStatus(*backend, *node, fsync, absl::Milliseconds(500), tls));
            },
        .server_version = version,
        .cluster_version = version};
    const std::vector<std::string> metrics_urls = *ParseUrlList(flags.listen_metrics_urls);
    for (const std::string& url : metrics_urls) {
      const HostPort where = *ParseUrl(url);
      auto http_server = std::make_unique<http::HttpServer>(sources);
      absl::StatusOr<int> port = http_server->Start(where.host, where.port);
      if (!port.ok()) return port.status();
      log.info("serving /health, /version and /metrics on {}", url);
      server->http_servers_.push_back(std::move(http_server));
    }
  }
  return server;
}

Server::~Server() { Stop(); }

void Server::Stop() {
  if (stopped_) return;
  stopped_ = true;
  // The node first: calls still waiting on it are answered "etcdserver: server stopped" at
  // once, so the client server's shutdown does not wait for their deadlines. Then the peer
  // transport, which the node no longer uses.
  for (auto& http_server : http_servers_) http_server->Stop();
  if (node_thread_ != nullptr) node_thread_->Stop();
  // After the node: a compaction in flight is then answered "server stopped" at once.
  auto_compaction_.reset();
  if (client_server_ != nullptr) {
    client_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }
  if (transport_ != nullptr) transport_->Stop();
  if (logger_ != nullptr) logger_->info("stopped");
}

}  // namespace raftkv::server
