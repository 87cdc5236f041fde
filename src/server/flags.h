// raftkv-server's flags: etcd's names, defaults and rules, so that an etcd command line works.
//
// The flags are parsed (tools/server/main.cc, with CLI11) into ServerFlags and then checked by
// ValidateFlags, which explains what to fix for a wrong or inconsistent combination.
// PlanCluster turns --initial-cluster into the founding membership with etcd-style ids.
//
// Thread-safety: plain data and pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "raftkv/peerpb/peer.pb.h"
#include "server/etcd/auto_compactor.h"
#include "transport/tls_credentials.h"

namespace raftkv::server {

struct ServerFlags {
  std::string name = "default";
  // Empty means "<name>.etcd", as in etcd.
  std::string data_dir;
  std::string listen_client_urls = "http://localhost:2379";
  std::string advertise_client_urls = "http://localhost:2379";
  std::string listen_peer_urls = "http://localhost:2380";
  std::string initial_advertise_peer_urls = "http://localhost:2380";
  // Empty means "<name>=<initial-advertise-peer-urls>", a one-member cluster.
  std::string initial_cluster;
  std::string initial_cluster_state = "new";
  std::string initial_cluster_token = "etcd-cluster";
  int64_t heartbeat_interval_ms = 100;
  int64_t election_timeout_ms = 1000;
  uint64_t snapshot_count = 100000;
  std::string log_level = "info";
  // "capnslog" (plain text, etcd 3.4's default) or "zap" (JSON lines); see server/log_setup.h.
  std::string logger = "capnslog";
  // Comma-separated: default, stderr, stdout or file paths.
  std::string log_outputs = "default";
  // Where the HTTP /metrics and /health endpoints listen, comma-separated like the other URL
  // flags (ParseUrlList reads it). Empty, etcd's default, means they are served on no extra
  // listener.
  std::string listen_metrics_urls;
  // --quota-backend-bytes: 0 means etcd's default quota (2 GiB), a negative value no quota.
  // Past it, writes that need space are refused and the NOSPACE alarm is raised.
  int64_t quota_backend_bytes = 0;
  // --auto-compaction-mode and --auto-compaction-retention, read as etcd reads them
  // (etcd::ParseAutoCompaction): retention "0" turns automatic compaction off.
  std::string auto_compaction_mode = "periodic";
  std::string auto_compaction_retention = "0";
  // Not an etcd flag, and hidden from --help: how often revision mode checks (etcd: 5 minutes).
  // A Go duration; tests shorten it.
  std::string auto_compaction_revision_interval = "5m";
  // --force-new-cluster: restart this member as the only one of its cluster, keeping its data
  // (node::ForceNewCluster), to recover from a lost quorum.
  bool force_new_cluster = false;
  // --pre-vote: candidates first ask whether they could win (thesis §9.6), so a member that was
  // cut off does not depose a working leader when it comes back. etcd 3.4 defaults to false and
  // etcd 3.5 to true; raftkv defaults to true, and --pre-vote=false turns it off.
  bool pre_vote = true;
  // --max-request-bytes and --max-txn-ops: the largest client request, and the most operations
  // (or compares) in one txn branch, as etcd checks them before proposing.
  int64_t max_request_bytes = 1536 * 1024;
  int max_txn_ops = 128;
  // Client TLS (--cert-file, --key-file, --trusted-ca-file, --client-cert-auth, --auto-tls):
  // used on the https:// URLs of --listen-client-urls.
  std::string cert_file;
  std::string key_file;
  std::string trusted_ca_file;
  bool client_cert_auth = false;
  bool auto_tls = false;
  // Peer TLS, the same with --peer-: the peer listener when --listen-peer-urls is https://, and
  // the channels to the other members and a joining member's membership fetch.
  std::string peer_cert_file;
  std::string peer_key_file;
  std::string peer_trusted_ca_file;
  bool peer_client_cert_auth = false;
  bool peer_auto_tls = false;
  // --peer-cert-allowed-cn: only peers whose certificate has this common name are accepted.
  std::string peer_cert_allowed_cn;
  // Not an etcd flag: where the key-value state lives. "rocksdb" (on disk in
  // <data-dir>/member/kv, reopened at its applied index on restart) or "memory" (rebuilt from
  // the raft log's snapshot and entries on every start; bounded by memory).
  std::string engine = "rocksdb";
  // Not etcd flags: snapshot transfers to a lagging or new member. --snapshot-send-timeout: how
  // long one snapshot stream may take beyond the time its bytes need at 10 MiB/s (so a large
  // state is not cut off by a deadline sized for a small one). --snapshot-keep-for: how long a
  // checkpoint whose stream broke is kept so that the next transfer to the same member resumes
  // it instead of starting over (0s: never kept). Go-style durations, as etcd's.
  std::string snapshot_send_timeout = "5m";
  std::string snapshot_keep_for = "5m";
};

// The snapshot transfer times the flags ask for.
struct SnapshotTransferTimes {
  absl::Duration send_timeout;
  absl::Duration keep_for;
};
// InvalidArgument naming the flag when a value is not a duration, or is out of range
// (--snapshot-send-timeout must be positive, --snapshot-keep-for not negative).
absl::StatusOr<SnapshotTransferTimes> SnapshotTransferTimesOf(const ServerFlags& flags);

// The client and peer certificate flags as the transport's TlsFiles.
transport::TlsFiles ClientTlsFiles(const ServerFlags& flags);
transport::TlsFiles PeerTlsFiles(const ServerFlags& flags);

// The automatic compaction the flags ask for; nullopt when it is off. InvalidArgument naming
// the flag when a value is wrong.
absl::StatusOr<std::optional<etcd::AutoCompactionPolicy>> AutoCompactionPolicyOf(
    const ServerFlags& flags);

// The space quota in bytes (--quota-backend-bytes: 0 is etcd's 2 GiB default); 0 when a
// negative value turned it off.
int64_t QuotaBytesOf(const ServerFlags& flags);

// Fills the defaults that depend on other flags (data dir, initial cluster).
void ApplyDerivedDefaults(ServerFlags* flags);

// InvalidArgument naming the flag and what to do, or OK. Checks every URL, the timing rule
// (--election-timeout >= 5 * --heartbeat-interval, as etcd), the cluster state, the log level,
// that --name is in --initial-cluster with the URLs of --initial-advertise-peer-urls, and that
// an https:// client or peer URL has a certificate (or --auto-tls / --peer-auto-tls).
absl::Status ValidateFlags(const ServerFlags& flags);

// --initial-cluster as name → peer URLs. InvalidArgument for a malformed entry or URL.
absl::StatusOr<std::map<std::string, std::vector<std::string>>> ParseInitialCluster(
    const std::string& value);

// The founding membership described by --initial-cluster, --initial-cluster-token and --name:
// member ids from each member's peer URLs and the token, the cluster id from the member ids.
// REQUIRES: ValidateFlags(flags).ok().
absl::StatusOr<peerpb::ClusterFile> PlanCluster(const ServerFlags& flags);

}  // namespace raftkv::server
