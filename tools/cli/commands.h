// The subcommands of the raftkv tool. Each returns the process exit code.
#pragma once

#include <cstdint>
#include <string>

namespace raftkv::cli {

struct ClusterUpOptions {
  int size = 3;
  int base_port = 2379;
  std::string data_dir = "raftkv-local";
};
int ClusterUp(const ClusterUpOptions& options);
int ClusterDown(const std::string& data_dir);

struct DemoOptions {
  int base_port = 32379;
  std::string data_dir;  // empty: a fresh temporary directory, removed afterwards
  bool keep = false;
};
int Demo(const DemoOptions& options);

// Writes are exactly-once (client_session.h): one session per process, and an attempt that
// fails UNAVAILABLE or does not answer within `timeout_s` seconds is sent again with the same
// sequence (a few times, with pauses). `lease` (hex, as etcdctl prints ids) attaches the key to a
// lease; empty: none.
int Put(const std::string& endpoints, const std::string& key, const std::string& value,
        const std::string& lease = "", double timeout_s = 5);
int Get(const std::string& endpoints, const std::string& key, bool prefix, bool serializable);
int Del(const std::string& endpoints, const std::string& key, bool prefix, double timeout_s = 5);
int Status(const std::string& endpoints);
int Members(const std::string& endpoints);
// Prints events on KEY (or every key under it with `prefix`) from `revision` (0: from now) until
// interrupted, resuming on the next endpoint when one fails.
int Watch(const std::string& endpoints, const std::string& key, bool prefix, int64_t revision,
          bool prev_kv);

// etcdctl's lease commands, with its output: grant TTL seconds; revoke, time-to-live (with
// the attached keys when `keys`) and one keep-alive round of a lease given in hex; list.
int LeaseGrant(const std::string& endpoints, int64_t ttl_seconds);
int LeaseRevoke(const std::string& endpoints, const std::string& id);
int LeaseTimeToLive(const std::string& endpoints, const std::string& id, bool keys);
int LeaseList(const std::string& endpoints);
int LeaseKeepAliveOnce(const std::string& endpoints, const std::string& id);

}  // namespace raftkv::cli
