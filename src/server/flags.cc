#include "server/flags.h"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "kv/quota.h"
#include "server/membership.h"
#include "server/url.h"

namespace raftkv::server {
namespace {

absl::Status CheckUrls(const char* flag, const std::string& value) {
  absl::StatusOr<std::vector<std::string>> urls = ParseUrlList(value);
  if (!urls.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": ", urls.status().message()));
  }
  return absl::OkStatus();
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

bool AnyHttps(const std::string& list) {
  absl::StatusOr<std::vector<std::string>> urls = ParseUrlList(list);
  if (!urls.ok()) return false;
  return std::any_of(urls->begin(), urls->end(),
                     [](const std::string& url) { return ParseUrl(url)->tls; });
}

// etcd: an https:// URL needs a certificate, given or generated.
absl::Status CheckTlsUrls(const ServerFlags& flags) {
  const std::vector<std::string> client_urls = *ParseUrlList(flags.listen_client_urls);
  for (const std::string& url : client_urls) {
    if (ParseUrl(url)->tls && flags.cert_file.empty() && !flags.auto_tls) {
      return absl::InvalidArgumentError(absl::StrCat(
          "TLS key/cert (--cert-file, --key-file) must be provided for client url ", url,
          " with HTTPS scheme"));
    }
  }
  const std::vector<std::string> peer_urls = *ParseUrlList(flags.listen_peer_urls);
  for (const std::string& url : peer_urls) {
    if (ParseUrl(url)->tls && flags.peer_cert_file.empty() && !flags.peer_auto_tls) {
      return absl::InvalidArgumentError(absl::StrCat(
          "TLS key/cert (--peer-cert-file, --peer-key-file) must be provided for peer url ", url,
          " with HTTPS scheme"));
    }
  }
  if (!flags.listen_metrics_urls.empty() && AnyHttps(flags.listen_metrics_urls)) {
    return absl::InvalidArgumentError(
        "--listen-metrics-urls: raftkv serves /metrics and /health over http:// only");
  }
  return absl::OkStatus();
}

}  // namespace

transport::TlsFiles ClientTlsFiles(const ServerFlags& flags) {
  transport::TlsFiles files;
  files.cert_file = flags.cert_file;
  files.key_file = flags.key_file;
  files.trusted_ca_file = flags.trusted_ca_file;
  files.client_cert_auth = flags.client_cert_auth;
  return files;
}

transport::TlsFiles PeerTlsFiles(const ServerFlags& flags) {
  transport::TlsFiles files;
  files.flag_prefix = "peer-";
  files.cert_file = flags.peer_cert_file;
  files.key_file = flags.peer_key_file;
  files.trusted_ca_file = flags.peer_trusted_ca_file;
  files.client_cert_auth = flags.peer_client_cert_auth;
  return files;
}

absl::StatusOr<std::map<std::string, std::vector<std::string>>> ParseInitialCluster(
    const std::string& value) {
  std::map<std::string, std::vector<std::string>> members;
  for (absl::string_view piece : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(piece, '=');
    std::string name(absl::StripAsciiWhitespace(kv.first));
    std::string url(absl::StripAsciiWhitespace(kv.second));
    if (name.empty() || url.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--initial-cluster entry '", piece,
                                                     "' must look like name=http://host:port"));
    }
    if (absl::StatusOr<HostPort> parsed = ParseUrl(url); !parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--initial-cluster: ", parsed.status().message()));
    }
    members[name].push_back(url);
  }
  if (members.empty()) {
    return absl::InvalidArgumentError(
        "--initial-cluster is empty; list every founding member "
        "as name=http://host:port, separated by commas");
  }
  return members;
}

void ApplyDerivedDefaults(ServerFlags* flags) {
  if (flags->data_dir.empty()) flags->data_dir = flags->name + ".etcd";
  if (flags->initial_cluster.empty()) {
    std::vector<std::string> parts;
    for (absl::string_view url :
         absl::StrSplit(flags->initial_advertise_peer_urls, ',', absl::SkipWhitespace())) {
      parts.push_back(absl::StrCat(flags->name, "=", absl::StripAsciiWhitespace(url)));
    }
    flags->initial_cluster = absl::StrJoin(parts, ",");
  }
}

absl::StatusOr<std::optional<etcd::AutoCompactionPolicy>> AutoCompactionPolicyOf(
    const ServerFlags& flags) {
  absl::StatusOr<std::optional<etcd::AutoCompactionPolicy>> policy =
      etcd::ParseAutoCompaction(flags.auto_compaction_mode, flags.auto_compaction_retention);
  if (!policy.ok() || !policy->has_value()) return policy;
  absl::Duration interval;
  if (!absl::ParseDuration(flags.auto_compaction_revision_interval, &interval) ||
      interval <= absl::ZeroDuration() || interval == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--auto-compaction-revision-interval \"", flags.auto_compaction_revision_interval,
        "\": use a positive duration such as 5m or 100ms"));
  }
  (*policy)->revision_check_interval = interval;
  return policy;
}

absl::StatusOr<SnapshotTransferTimes> SnapshotTransferTimesOf(const ServerFlags& flags) {
  SnapshotTransferTimes times;
  if (!absl::ParseDuration(flags.snapshot_send_timeout, &times.send_timeout) ||
      times.send_timeout <= absl::ZeroDuration() ||
      times.send_timeout == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--snapshot-send-timeout \"", flags.snapshot_send_timeout,
                     "\": use a positive duration such as 5m or 90s"));
  }
  if (!absl::ParseDuration(flags.snapshot_keep_for, &times.keep_for) ||
      times.keep_for < absl::ZeroDuration() || times.keep_for == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--snapshot-keep-for \"", flags.snapshot_keep_for,
                     "\": use a duration such as 5m, or 0s to keep nothing"));
  }
  return times;
}

int64_t QuotaBytesOf(const ServerFlags& flags) {
  if (flags.quota_backend_bytes == 0) return kv::kDefaultQuotaBytes;
  return flags.quota_backend_bytes < 0 ? 0 : flags.quota_backend_bytes;
}

absl::Status ValidateFlags(const ServerFlags& flags) {
  if (flags.name.empty()) return absl::InvalidArgumentError("--name must not be empty");
  if (flags.data_dir.empty()) return absl::InvalidArgumentError("--data-dir must not be empty");
  for (auto [flag, value] :
       {std::pair{"--listen-client-urls", &flags.listen_client_urls},
        std::pair{"--advertise-client-urls", &flags.advertise_client_urls},
        std::pair{"--listen-peer-urls", &flags.listen_peer_urls},
        std::pair{"--initial-advertise-peer-urls", &flags.initial_advertise_peer_urls}}) {
    if (absl::Status s = CheckUrls(flag, *value); !s.ok()) return s;
  }
  if (!flags.listen_metrics_urls.empty()) {
    if (absl::Status s = CheckUrls("--listen-metrics-urls", flags.listen_metrics_urls); !s.ok()) {
      return s;
    }
  }
  if (flags.heartbeat_interval_ms <= 0) {
    return absl::InvalidArgumentError("--heartbeat-interval must be a positive number of ms");
  }
  if (flags.election_timeout_ms < 5 * flags.heartbeat_interval_ms) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--election-timeout (", flags.election_timeout_ms,
        " ms) must be at least 5 times --heartbeat-interval (", flags.heartbeat_interval_ms,
        " ms); raise --election-timeout to ", 5 * flags.heartbeat_interval_ms,
        " ms or more, or lower --heartbeat-interval"));
  }
  if (flags.election_timeout_ms > 50000) {
    return absl::InvalidArgumentError("--election-timeout must be at most 50000 ms");
  }
  // gRPC's message sizes are ints, and a request is replicated in one raft message.
  if (flags.max_request_bytes < 1 || flags.max_request_bytes > (256 << 20)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--max-request-bytes is ", flags.max_request_bytes, "; it must be 1 to 268435456"));
  }
  if (flags.max_txn_ops < 1) {
    return absl::InvalidArgumentError("--max-txn-ops must be at least 1");
  }
  if (flags.snapshot_count == 0) {
    return absl::InvalidArgumentError("--snapshot-count must be at least 1");
  }
  if (flags.initial_cluster_state != "new" && flags.initial_cluster_state != "existing") {
    return absl::InvalidArgumentError(absl::StrCat("--initial-cluster-state is '",
                                                   flags.initial_cluster_state,
                                                   "'; it must be 'new' or 'existing'"));
  }
  static const std::set<std::string> kLevels = {"debug", "info", "warn", "error"};
  if (!kLevels.contains(flags.log_level)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--log-level is '", flags.log_level, "'; use debug, info, warn or error"));
  }
  if (flags.logger != "capnslog" && flags.logger != "zap") {
    return absl::InvalidArgumentError(
        absl::StrCat("--logger is '", flags.logger, "'; use capnslog or zap"));
  }
  if (flags.initial_cluster_token.empty()) {
    return absl::InvalidArgumentError("--initial-cluster-token must not be empty");
  }
  if (absl::Status s = AutoCompactionPolicyOf(flags).status(); !s.ok()) return s;
  if (absl::Status s = SnapshotTransferTimesOf(flags).status(); !s.ok()) return s;
  if (absl::Status s = CheckTlsUrls(flags); !s.ok()) return s;

  absl::StatusOr<std::map<std::string, std::vector<std::string>>> members =
      ParseInitialCluster(flags.initial_cluster);
  if (!members.ok()) return members.status();
  auto self = members->find(flags.name);
  if (self == members->end()) {
    std::vector<std::string> names;
    for (const auto& [name, urls] : *members) names.push_back(name);
    return absl::InvalidArgumentError(
        absl::StrCat("--name '", flags.name, "' is not in --initial-cluster (which has ",
                     absl::StrJoin(names, ", "), "); add ", flags.name,
                     "=<its --initial-advertise-peer-urls> to --initial-cluster, or fix --name"));
  }
  std::vector<std::string> advertised = *ParseUrlList(flags.initial_advertise_peer_urls);
  if (Sorted(self->second) != Sorted(advertised)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--initial-cluster gives ", flags.name, " the peer URLs ",
                     absl::StrJoin(self->second, ","), " but --initial-advertise-peer-urls is ",
                     flags.initial_advertise_peer_urls, "; make them the same"));
  }
  std::set<std::string> seen;
  for (const auto& [name, urls] : *members) {
    for (const std::string& url : urls) {
      if (!seen.insert(url).second) {
        return absl::InvalidArgumentError(absl::StrCat("--initial-cluster lists the peer URL ", url,
                                                       " for two members; each member "
                                                       "needs its own"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<peerpb::ClusterFile> PlanCluster(const ServerFlags& flags) {
  absl::StatusOr<std::map<std::string, std::vector<std::string>>> members =
      ParseInitialCluster(flags.initial_cluster);
  if (!members.ok()) return members.status();
  peerpb::ClusterFile file;
  std::vector<uint64_t> ids;
  for (const auto& [name, urls] : *members) {
    peerpb::Member* m = file.add_members();
    m->set_id(ComputeMemberId(urls, flags.initial_cluster_token));
    m->set_name(name);
    for (const std::string& url : urls) m->add_peer_urls(url);
    ids.push_back(m->id());
    if (name == flags.name) file.set_member_id(m->id());
  }
  file.set_cluster_id(ComputeClusterId(ids, flags.initial_cluster_token));
  if (file.member_id() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--name '", flags.name, "' is not in --initial-cluster"));
  }
  return file;
}

}  // namespace raftkv::server
