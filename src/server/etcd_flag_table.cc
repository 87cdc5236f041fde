#include "server/etcd_flag_table.h"

#include <algorithm>
#include <array>

namespace raftkv::server {
namespace {

using enum EtcdFlagStatus;

constexpr std::string_view kNoV2 = "raftkv serves only the v3 API";
constexpr std::string_view kNoTlsOption =
    "gRPC's TLS defaults apply (TLS 1.2 and 1.3 with its cipher list)";
constexpr std::string_view kNoProxy = "raftkv has no proxy mode; it always runs as a member";
constexpr std::string_view kNoDiscovery =
    "raftkv forms clusters from --initial-cluster only; discovery is not supported";
constexpr std::string_view kNoAuth = "raftkv has no authentication";

constexpr std::array kFlags = {
    // Member.
    EtcdFlag{"name", false, kImplemented, "this member's name in --initial-cluster"},
    EtcdFlag{"data-dir", false, kImplemented, "default <name>.etcd"},
    EtcdFlag{"wal-dir", false, kIgnored, "the log always lives inside --data-dir"},
    EtcdFlag{"snapshot-count", false, kImplemented, "applied entries between snapshots"},
    EtcdFlag{"heartbeat-interval", false, kImplemented, "milliseconds"},
    EtcdFlag{"election-timeout", false, kImplemented,
             "milliseconds, at least 5 heartbeat intervals"},
    EtcdFlag{"initial-election-tick-advance", true, kIgnored,
             "raftkv's first election waits a full election timeout"},
    EtcdFlag{"listen-peer-urls", false, kImplemented, "http:// or https:// (then --peer-cert-file)"},
    EtcdFlag{"listen-client-urls", false, kImplemented, "http:// or https:// (then --cert-file)"},
    EtcdFlag{"max-snapshots", false, kIgnored, "raftkv keeps only the newest snapshot"},
    EtcdFlag{"max-wals", false, kIgnored, "raftkv removes log segments a snapshot covers"},
    EtcdFlag{"quota-backend-bytes", false, kImplemented,
             "past it writes are refused and NOSPACE is raised; 0: 2 GiB, negative: none"},
    EtcdFlag{"backend-batch-interval", false, kIgnored, "no bbolt backend"},
    EtcdFlag{"backend-batch-limit", false, kIgnored, "no bbolt backend"},
    EtcdFlag{"max-txn-ops", false, kImplemented, "operations or compares per txn branch"},
    EtcdFlag{"max-request-bytes", false, kImplemented, "the largest client request"},
    EtcdFlag{"max-concurrent-streams", false, kIgnored, "gRPC's default applies"},
    EtcdFlag{"grpc-keepalive-min-time", false, kIgnored, "gRPC's defaults apply"},
    EtcdFlag{"grpc-keepalive-interval", false, kIgnored, "gRPC's defaults apply"},
    EtcdFlag{"grpc-keepalive-timeout", false, kIgnored, "gRPC's defaults apply"},
    // Clustering.
    EtcdFlag{"initial-advertise-peer-urls", false, kImplemented, "must match --initial-cluster"},
    EtcdFlag{"initial-cluster", false, kImplemented, "name=http://host:port,..."},
    EtcdFlag{"initial-cluster-state", false, kImplemented, "new or existing"},
    EtcdFlag{"initial-cluster-token", false, kImplemented, "part of every member id"},
    EtcdFlag{"advertise-client-urls", false, kImplemented, "announced to the cluster"},
    EtcdFlag{"discovery", false, kIgnored, kNoDiscovery},
    EtcdFlag{"discovery-fallback", false, kIgnored, kNoDiscovery},
    EtcdFlag{"discovery-proxy", false, kIgnored, kNoDiscovery},
    EtcdFlag{"discovery-srv", false, kIgnored, kNoDiscovery},
    EtcdFlag{"discovery-srv-name", false, kIgnored, kNoDiscovery},
    EtcdFlag{"strict-reconfig-check", true, kIgnored,
             "raftkv always refuses a change that would lose quorum"},
    EtcdFlag{"pre-vote", true, kImplemented,
             "default true (etcd 3.4: false, etcd 3.5: true); --pre-vote=false turns it off"},
    EtcdFlag{"auto-compaction-retention", false, kImplemented,
             "0: off; periodic: a duration or hours; revision: revisions kept"},
    EtcdFlag{"auto-compaction-mode", false, kImplemented, "periodic or revision"},
    EtcdFlag{"enable-v2", true, kIgnored, kNoV2},
    EtcdFlag{"experimental-enable-v2v3", false, kIgnored, kNoV2},
    // Security.
    EtcdFlag{"cert-file", false, kImplemented, "client TLS certificate for https:// client URLs"},
    EtcdFlag{"key-file", false, kImplemented, "its unencrypted PEM key"},
    EtcdFlag{"client-cert-auth", true, kImplemented, "clients must present a certificate signed by --trusted-ca-file"},
    EtcdFlag{"client-crl-file", false, kIgnored, "no revocation lists; remove the CA or rotate it"},
    EtcdFlag{"client-cert-allowed-hostname", false, kIgnored, "any certificate the CA signed is accepted"},
    EtcdFlag{"trusted-ca-file", false, kImplemented, "CA that signs client certificates"},
    EtcdFlag{"auto-tls", true, kImplemented, "self-signed client certificate in <data-dir>/fixtures/client"},
    EtcdFlag{"peer-cert-file", false, kImplemented, "peer TLS certificate, server and client side"},
    EtcdFlag{"peer-key-file", false, kImplemented, "its unencrypted PEM key"},
    EtcdFlag{"peer-client-cert-auth", true, kImplemented, "peers must present a certificate signed by --peer-trusted-ca-file"},
    EtcdFlag{"peer-trusted-ca-file", false, kImplemented, "CA that signs the members' certificates"},
    EtcdFlag{"peer-cert-allowed-cn", false, kImplemented, "peer traffic from another common name is refused"},
    EtcdFlag{"peer-cert-allowed-hostname", false, kIgnored, "use --peer-cert-allowed-cn"},
    EtcdFlag{"peer-auto-tls", true, kImplemented, "self-signed peer certificate in <data-dir>/fixtures/peer"},
    EtcdFlag{"peer-crl-file", false, kIgnored, "no revocation lists; remove the CA or rotate it"},
    EtcdFlag{"cipher-suites", false, kIgnored, kNoTlsOption},
    EtcdFlag{"cors", false, kIgnored, "no HTTP client gateway"},
    EtcdFlag{"host-whitelist", false, kIgnored, "no HTTP client gateway"},
    EtcdFlag{"auth-token", false, kIgnored, kNoAuth},
    EtcdFlag{"bcrypt-cost", false, kIgnored, kNoAuth},
    EtcdFlag{"auth-token-ttl", false, kIgnored, kNoAuth},
    // Profiling, monitoring and logging.
    EtcdFlag{"enable-pprof", true, kIgnored, "no Go runtime to profile"},
    EtcdFlag{"metrics", false, kIgnored, "one metrics set"},
    EtcdFlag{"listen-metrics-urls", false, kImplemented, "extra listeners for /metrics, /health"},
    EtcdFlag{"logger", false, kImplemented, "capnslog: plain text; zap: JSON lines"},
    EtcdFlag{"log-outputs", false, kImplemented, "default, stderr, stdout or file paths"},
    EtcdFlag{"log-level", false, kImplemented, "debug, info, warn or error"},
    EtcdFlag{"debug", true, kIgnored, "deprecated in etcd; use --log-level debug"},
    EtcdFlag{"log-package-levels", false, kIgnored, "deprecated in etcd; use --log-level"},
    // Proxy.
    EtcdFlag{"proxy", false, kIgnored, kNoProxy},
    EtcdFlag{"proxy-failure-wait", false, kIgnored, kNoProxy},
    EtcdFlag{"proxy-refresh-interval", false, kIgnored, kNoProxy},
    EtcdFlag{"proxy-dial-timeout", false, kIgnored, kNoProxy},
    EtcdFlag{"proxy-write-timeout", false, kIgnored, kNoProxy},
    EtcdFlag{"proxy-read-timeout", false, kIgnored, kNoProxy},
    // Experimental.
    EtcdFlag{"experimental-initial-corrupt-check", true, kIgnored, "no corruption check"},
    EtcdFlag{"experimental-corrupt-check-time", false, kIgnored, "no corruption check"},
    EtcdFlag{"experimental-backend-bbolt-freelist-type", false, kIgnored, "no bbolt backend"},
    EtcdFlag{"experimental-enable-lease-checkpoint", true, kIgnored, "no lease checkpoints"},
    EtcdFlag{"experimental-compaction-batch-limit", false, kIgnored, "compaction is not batched"},
    EtcdFlag{"experimental-peer-skip-client-san-verification", true, kIgnored, "client certificates' SANs are not checked"},
    EtcdFlag{"experimental-watch-progress-notify-interval", false, kIgnored,
             "no periodic watch progress notifications"},
    EtcdFlag{"experimental-warning-apply-duration", false, kIgnored, "no slow-apply warning"},
    // Unsafe.
    EtcdFlag{"force-new-cluster", true, kImplemented,
             "restart as the only member, keeping the data: recovery from a lost quorum"},
    // Configuration file.
    EtcdFlag{"config-file", false, kImplemented,
             "etcd's YAML configuration file; when given, the other flags and ETCD_* variables "
             "are ignored"},
};

}  // namespace

std::span<const EtcdFlag> EtcdFlags() { return kFlags; }

const EtcdFlag* FindEtcdFlag(std::string_view name) {
  auto it = std::find_if(kFlags.begin(), kFlags.end(),
                         [name](const EtcdFlag& f) { return f.name == name; });
  return it == kFlags.end() ? nullptr : &*it;
}

}  // namespace raftkv::server
