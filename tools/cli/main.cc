// raftkv: start a local cluster, talk to any etcd v3 endpoint, or run the demo.
//
//   raftkv cluster up [--size 3] [--base-port 2379] [--data-dir raftkv-local]
//   raftkv cluster down [--data-dir raftkv-local]
//   raftkv put KEY VALUE | get KEY [--prefix] [--serializable] | del KEY [--prefix]
//   raftkv put/del ... [--command-timeout SECONDS]   (per attempt; writes are retried, once-only)
//   raftkv watch KEY [--prefix] [--rev N] [--prev-kv]
//   raftkv lease grant TTL | revoke ID | timetolive ID [--keys] | list | keep-alive ID
//   raftkv put KEY VALUE --lease ID
//   raftkv status | members            (all take --endpoints host:port,...)
//   raftkv demo [--base-port 32379] [--data-dir D] [--keep]
#include <cstdio>

#include "CLI/CLI.hpp"
#include "commands.h"

int main(int argc, char** argv) {
  using namespace raftkv::cli;
  CLI::App app{"raftkv: a replicated key-value store that speaks etcd's v3 API"};
  app.require_subcommand(1);
  std::string endpoints = "127.0.0.1:2379";

  CLI::App* cluster = app.add_subcommand("cluster", "start or stop a local cluster");
  cluster->require_subcommand(1);
  ClusterUpOptions up;
  CLI::App* up_cmd = cluster->add_subcommand("up", "start raftkv-server processes on 127.0.0.1");
  up_cmd->add_option("--size", up.size, "members")->capture_default_str()->check(CLI::Range(1, 9));
  up_cmd->add_option("--base-port", up.base_port, "first client port; then peer, client, ...")
      ->capture_default_str()
      ->check(CLI::Range(1024, 65000));
  up_cmd->add_option("--data-dir", up.data_dir, "where members keep data and logs")
      ->capture_default_str();
  std::string down_dir = "raftkv-local";
  CLI::App* down_cmd = cluster->add_subcommand("down", "stop a cluster started by `cluster up`");
  down_cmd->add_option("--data-dir", down_dir)->capture_default_str();

  std::string key, value;
  bool prefix = false, serializable = false;
  CLI::App* put = app.add_subcommand("put", "write KEY=VALUE");
  put->add_option("key", key)->required();
  put->add_option("value", value)->required();
  std::string lease_id;
  put->add_option("--lease", lease_id, "attach the key to this lease (hex id)");
  CLI::App* get = app.add_subcommand("get", "read KEY (linearizable unless --serializable)");
  get->add_option("key", key)->required();
  get->add_flag("--prefix", prefix, "every key starting with KEY");
  get->add_flag("--serializable", serializable, "answer from the member's own copy");
  CLI::App* del = app.add_subcommand("del", "delete KEY");
  del->add_option("key", key)->required();
  del->add_flag("--prefix", prefix, "every key starting with KEY");
  double command_timeout_s = 5;
  for (CLI::App* write : {put, del}) {
    write->add_option("--command-timeout", command_timeout_s,
                      "seconds one attempt may take; an attempt that fails UNAVAILABLE or times "
                      "out is sent again with the same session sequence, so it applies once")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
  }
  int64_t watch_revision = 0;
  bool prev_kv = false;
  CLI::App* watch = app.add_subcommand("watch", "print events on KEY as they happen");
  watch->add_option("key", key)->required();
  watch->add_flag("--prefix", prefix, "every key starting with KEY");
  watch->add_option("--rev", watch_revision, "start from this revision (history first)")
      ->check(CLI::NonNegativeNumber);
  watch->add_flag("--prev-kv", prev_kv, "print the pair before each event too");
  CLI::App* status = app.add_subcommand("status", "raft status of every endpoint");
  CLI::App* members = app.add_subcommand("members", "the cluster's members");
  CLI::App* lease = app.add_subcommand("lease", "etcd leases: grant, revoke, timetolive, list, keep-alive");
  lease->require_subcommand(1);
  int64_t ttl = 0;
  bool lease_keys = false;
  CLI::App* grant = lease->add_subcommand("grant", "grant a lease of TTL seconds");
  grant->add_option("ttl", ttl)->required();
  CLI::App* revoke = lease->add_subcommand("revoke", "revoke a lease, deleting its keys");
  revoke->add_option("id", lease_id)->required();
  CLI::App* timetolive = lease->add_subcommand("timetolive", "a lease's granted and remaining TTL");
  timetolive->add_option("id", lease_id)->required();
  timetolive->add_flag("--keys", lease_keys, "also list the keys attached to it");
  CLI::App* list = lease->add_subcommand("list", "every lease's id");
  CLI::App* keep_alive = lease->add_subcommand("keep-alive", "renew a lease once");
  keep_alive->add_option("id", lease_id)->required();
  for (CLI::App* sub : {put, get, del, watch, status, members, grant, revoke, timetolive, list,
                        keep_alive}) {
    sub->add_option("--endpoints", endpoints, "comma-separated host:port list")
        ->capture_default_str();
  }

  DemoOptions demo;
  CLI::App* demo_cmd = app.add_subcommand(
      "demo", "start a 3-member cluster, kill its leader, keep writing, bring the member back");
  demo_cmd->add_option("--base-port", demo.base_port)->capture_default_str();
  demo_cmd->add_option("--data-dir", demo.data_dir, "keep data and logs here");
  demo_cmd->add_flag("--keep", demo.keep, "keep the temporary data directory");

  // Line by line, so that progress shows up in order with the errors on stderr.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  CLI11_PARSE(app, argc, argv);
  if (*up_cmd) return ClusterUp(up);
  if (*down_cmd) return ClusterDown(down_dir);
  if (*put) return Put(endpoints, key, value, lease_id, command_timeout_s);
  if (*grant) return LeaseGrant(endpoints, ttl);
  if (*revoke) return LeaseRevoke(endpoints, lease_id);
  if (*timetolive) return LeaseTimeToLive(endpoints, lease_id, lease_keys);
  if (*list) return LeaseList(endpoints);
  if (*keep_alive) return LeaseKeepAliveOnce(endpoints, lease_id);
  if (*get) return Get(endpoints, key, prefix, serializable);
  if (*del) return Del(endpoints, key, prefix, command_timeout_s);
  if (*watch) return Watch(endpoints, key, prefix, watch_revision, prev_kv);
  if (*status) return Status(endpoints);
  if (*members) return Members(endpoints);
  if (*demo_cmd) return Demo(demo);
  return 2;
}
