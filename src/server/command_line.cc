#include "server/command_line.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <set>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/config_file.h"
#include "server/etcd_flag_table.h"

namespace raftkv::server {
namespace {

// One CLI11 application bound to fresh storage; the parser runs twice (command line alone, then
// with the environment), and CLI11 options cannot be rebound.
struct Parser {
  CLI::App app{"raftkv-server: a replicated key-value store that speaks etcd's v3 API"};
  ServerFlags flags;
  // Values of flags raftkv does not use; std::map keeps the addresses CLI11 writes to stable.
  std::map<std::string, std::string> values;
  std::map<std::string, bool> booleans;
};

std::string Dashed(std::string_view name) { return absl::StrCat("--", std::string(name)); }

void BindImplemented(Parser& p) {
  CLI::App& app = p.app;
  ServerFlags& f = p.flags;
  auto note = [](std::string_view name) { return std::string(FindEtcdFlag(name)->note); };
  app.add_option("--name", f.name, note("name"))->capture_default_str();
  app.add_option("--data-dir", f.data_dir, note("data-dir"));
  app.add_option("--listen-client-urls", f.listen_client_urls, note("listen-client-urls"))
      ->capture_default_str();
  app.add_option("--advertise-client-urls", f.advertise_client_urls,
                 note("advertise-client-urls"))
      ->capture_default_str();
  app.add_option("--listen-peer-urls", f.listen_peer_urls, note("listen-peer-urls"))
      ->capture_default_str();
  app.add_option("--initial-advertise-peer-urls", f.initial_advertise_peer_urls,
                 note("initial-advertise-peer-urls"))
      ->capture_default_str();
  app.add_option("--initial-cluster", f.initial_cluster, note("initial-cluster"));
  app.add_option("--initial-cluster-state", f.initial_cluster_state,
                 note("initial-cluster-state"))
      ->capture_default_str();
  app.add_option("--initial-cluster-token", f.initial_cluster_token,
                 note("initial-cluster-token"))
      ->capture_default_str();
  app.add_option("--heartbeat-interval", f.heartbeat_interval_ms, note("heartbeat-interval"))
      ->capture_default_str();
  app.add_option("--election-timeout", f.election_timeout_ms, note("election-timeout"))
      ->capture_default_str();
  app.add_option("--snapshot-count", f.snapshot_count, note("snapshot-count"))
      ->capture_default_str();
  app.add_option("--log-level", f.log_level, note("log-level"))->capture_default_str();
  app.add_option("--logger", f.logger, note("logger"))->capture_default_str();
  app.add_option("--log-outputs", f.log_outputs, note("log-outputs"))->capture_default_str();
  app.add_option("--listen-metrics-urls", f.listen_metrics_urls, note("listen-metrics-urls"));
  app.add_option("--quota-backend-bytes", f.quota_backend_bytes, note("quota-backend-bytes"))
      ->capture_default_str();
  app.add_option("--auto-compaction-mode", f.auto_compaction_mode, note("auto-compaction-mode"))
      ->capture_default_str();
  app.add_option("--auto-compaction-retention", f.auto_compaction_retention,
                 note("auto-compaction-retention"))
      ->capture_default_str();
  app.add_flag("--force-new-cluster", f.force_new_cluster, note("force-new-cluster"));
  app.add_flag("--pre-vote", f.pre_vote, note("pre-vote"))->capture_default_str();
  app.add_option("--max-request-bytes", f.max_request_bytes, note("max-request-bytes"))
      ->capture_default_str();
  app.add_option("--max-txn-ops", f.max_txn_ops, note("max-txn-ops"))->capture_default_str();
  app.add_option("--cert-file", f.cert_file, note("cert-file"));
  app.add_option("--key-file", f.key_file, note("key-file"));
  app.add_option("--trusted-ca-file", f.trusted_ca_file, note("trusted-ca-file"));
  app.add_flag("--client-cert-auth", f.client_cert_auth, note("client-cert-auth"));
  app.add_flag("--auto-tls", f.auto_tls, note("auto-tls"));
  app.add_option("--peer-cert-file", f.peer_cert_file, note("peer-cert-file"));
  app.add_option("--peer-key-file", f.peer_key_file, note("peer-key-file"));
  app.add_option("--peer-trusted-ca-file", f.peer_trusted_ca_file, note("peer-trusted-ca-file"));
  app.add_flag("--peer-client-cert-auth", f.peer_client_cert_auth, note("peer-client-cert-auth"));
  app.add_flag("--peer-auto-tls", f.peer_auto_tls, note("peer-auto-tls"));
  app.add_option("--peer-cert-allowed-cn", f.peer_cert_allowed_cn, note("peer-cert-allowed-cn"));
  // Not etcd's: the key-value engine.
  app.add_option("--engine", f.engine,
                 "raftkv only: where the key-value state lives: rocksdb (on disk, reopened at its "
                 "applied index) or memory (rebuilt from the raft log on every start)")
      ->check(CLI::IsMember({"rocksdb", "memory"}))
      ->capture_default_str();
  app.add_option("--snapshot-send-timeout", f.snapshot_send_timeout,
                 "raftkv only: how long one snapshot stream to a member may take beyond the time "
                 "its bytes need at 10 MiB/s (a duration: 90s, 5m)")
      ->capture_default_str();
  app.add_option("--snapshot-keep-for", f.snapshot_keep_for,
                 "raftkv only: how long the checkpoint of a broken snapshot stream is kept for "
                 "the next transfer to resume (a duration; 0s keeps none)")
      ->capture_default_str();
  // Not etcd's: revision mode's check interval, for tests; the empty group hides it from --help.
  app.add_option("--auto-compaction-revision-interval", f.auto_compaction_revision_interval)
      ->group("");
}

std::unique_ptr<Parser> MakeParser() {
  auto p = std::make_unique<Parser>();
  p->app.set_version_flag("--version", "raftkv-server 0.1.0 (etcd API 3.4)");
  BindImplemented(*p);
  for (const EtcdFlag& flag : EtcdFlags()) {
    std::string dashed = Dashed(flag.name);
    if (p->app.get_option_no_throw(dashed) != nullptr) continue;
    std::string name(flag.name);
    std::string help = absl::StrCat("(no effect in raftkv) ", std::string(flag.note));
    if (flag.boolean) {
      p->app.add_flag(dashed, p->booleans[name], help);
    } else {
      p->app.add_option(dashed, p->values[name], help);
    }
  }
  return p;
}

// Go's flag package reads `-name` as `--name`; CLI11 would read it as a cluster of short
// options, so it is rewritten first. Arguments after "--" are left alone.
std::vector<std::string> DoubleDashed(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  bool rest = false;
  for (const std::string& arg : args) {
    if (arg == "--") rest = true;
    if (!rest && arg.size() > 2 && arg[0] == '-' && arg[1] != '-') {
      std::string name = arg.substr(1, arg.find('=') - 1);
      if (FindEtcdFlag(name) != nullptr || name == "version") {
        out.push_back("-" + arg);
        continue;
      }
    }
    out.push_back(arg);
  }
  return out;
}

// True when parsing ended the run (help, version, error); `out` then says how.
bool Parse(Parser& p, std::vector<std::string> args, CommandLine* out) {
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last first.
  try {
    p.app.parse(args);
    return false;
  } catch (const CLI::CallForHelp&) {
    out->exit_code = 0;
    out->message = p.app.help();
  } catch (const CLI::CallForVersion& e) {
    out->exit_code = 0;
    out->message = absl::StrCat(e.what(), "\n");
  } catch (const CLI::ParseError& e) {
    out->exit_code = 2;
    out->message = absl::StrCat("raftkv-server: ", e.what(), " (see --help)\n");
  }
  return true;
}

CommandLine Fail(CommandLine out, std::string message) {
  out.exit_code = 2;
  out.message = absl::StrCat("raftkv-server: ", message, "\n");
  return out;
}

}  // namespace

std::string EtcdEnvName(std::string_view flag) {
  std::string key = absl::StrCat("ETCD_", std::string(flag));
  for (char& c : key) c = c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return key;
}

namespace {

// The final parse of everything that applies (command line and environment, or the config
// file's settings): fills the flags and warns once per flag that has no effect.
CommandLine ParseFully(const std::vector<std::string>& args, CommandLine out) {
  std::unique_ptr<Parser> full = MakeParser();
  if (Parse(*full, args, &out)) return out;
  out.flags = full->flags;

  for (const EtcdFlag& flag : EtcdFlags()) {
    if (full->app.count(Dashed(flag.name)) == 0) continue;
    if (flag.status == EtcdFlagStatus::kIgnored) {
      out.warnings.push_back(
          absl::StrCat("--", std::string(flag.name), " has no effect in raftkv: ", std::string(flag.note)));
    } else if (flag.status == EtcdFlagStatus::kRefused) {
      bool set = flag.boolean ? full->booleans[std::string(flag.name)] : true;
      if (set) {
        return Fail(std::move(out), absl::StrCat("--", std::string(flag.name), " is not supported"));
      }
    }
  }
  return out;
}

// etcd 3.4: with a configuration file, the other flags and the ETCD_* variables are ignored.
CommandLine ParseConfigFile(const std::string& path, bool other_settings, CommandLine out) {
  absl::StatusOr<ConfigFileArgs> config = ReadConfigFile(path);
  if (!config.ok()) return Fail(std::move(out), std::string(config.status().message()));
  if (other_settings) {
    out.warnings.push_back(absl::StrCat("--config-file ", path,
                                        " is given: the other flags and ETCD_* variables are "
                                        "ignored, as etcd ignores them"));
  }
  for (const std::string& key : config->unknown_keys) {
    out.warnings.push_back(
        absl::StrCat("--config-file ", path, ": ", key, " is not an etcd setting; ignored"));
  }
  return ParseFully(config->args, std::move(out));
}

}  // namespace

CommandLine ParseCommandLine(const std::vector<std::string>& args,
                             const std::vector<std::string>& environment) {
  CommandLine out;
  std::vector<std::string> command_line = DoubleDashed(args);
  std::unique_ptr<Parser> alone = MakeParser();
  if (Parse(*alone, command_line, &out)) return out;

  std::map<std::string, std::string> env;
  for (const std::string& entry : environment) {
    std::pair<std::string, std::string> kv = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    env.insert(std::move(kv));
  }
  std::string config_file = alone->values["config-file"];
  const bool config_from_env = config_file.empty() && env.contains("ETCD_CONFIG_FILE");
  if (config_from_env) config_file = env["ETCD_CONFIG_FILE"];
  if (!config_file.empty()) {
    bool other_flags = false;
    for (const EtcdFlag& flag : EtcdFlags()) {
      other_flags = other_flags ||
                    (flag.name != "config-file" && alone->app.count(Dashed(flag.name)) > 0);
    }
    bool other_env = false;
    for (const auto& [key, value] : env) {
      other_env = other_env || (key.starts_with("ETCD_") && key != "ETCD_CONFIG_FILE");
    }
    return ParseConfigFile(config_file, other_flags || other_env, std::move(out));
  }
  // The environment fills what the command line left unset, then the whole is parsed again,
  // so a value from the environment is converted and checked exactly like a flag.
  std::vector<std::string> combined = command_line;
  std::set<std::string> used;
  for (const EtcdFlag& flag : EtcdFlags()) {
    std::string key = EtcdEnvName(flag.name);
    auto it = env.find(key);
    if (it == env.end()) continue;
    used.insert(key);
    if (alone->app.count(Dashed(flag.name)) > 0) {
      return Fail(std::move(out),
                  absl::StrCat("conflicting environment variable ", key, " is shadowed by --",
                               std::string(flag.name), "; unset the variable or drop the flag"));
    }
    if (it->second.empty()) continue;  // etcd reads an empty variable as unset
    combined.push_back(absl::StrCat(Dashed(flag.name), "=", it->second));
  }
  for (const auto& [key, value] : env) {
    if (key.starts_with("ETCD_") && !used.contains(key)) {
      out.warnings.push_back(absl::StrCat("unrecognized environment variable ", key, "=", value));
    }
  }
  return ParseFully(combined, std::move(out));
}

}  // namespace raftkv::server
