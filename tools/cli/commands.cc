#include "commands.h"

#include <signal.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/numbers.h"
#include "client_session.h"
#include "etcd_client.h"
#include "local_cluster.h"

namespace raftkv::cli {
namespace {

std::vector<std::string> SplitEndpoints(const std::string& endpoints) {
  return absl::StrSplit(endpoints, ',', absl::SkipWhitespace());
}

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "raftkv: %s\n", std::string(s.message()).c_str());
  return 1;
}

// Runs `call` against each endpoint in turn until one answers; the last error otherwise.
template <typename Call>
auto FirstAnswer(const std::string& endpoints, Call call)
    -> decltype(call(std::declval<EtcdClient&>())) {
  absl::Status last = absl::InvalidArgumentError("no --endpoints given");
  for (const std::string& endpoint : SplitEndpoints(endpoints)) {
    EtcdClient client(endpoint);
    auto result = call(client);
    if (result.ok() || result.status().code() != absl::StatusCode::kUnavailable) return result;
    last = result.status();
  }
  return last;
}

// One process of the tool is one client of exactly-once writes (client_session.h).
ClientSession& ProcessSession() {
  static ClientSession session;
  return session;
}

// Sends one write, tagged with the next sequence of this process's session, to the endpoints in
// turn until one answers; a try that fails with UNAVAILABLE or DEADLINE_EXCEEDED is repeated
// with the same tag after a pause (bounded), so the write applies once however many tries it
// takes. Every endpoint is tried at least once.
template <typename Call>
auto WriteOnce(const std::string& endpoints, double timeout_s, Call call)
    -> decltype(call(std::declval<EtcdClient&>(), SessionTag{})) {
  using Result = decltype(call(std::declval<EtcdClient&>(), SessionTag{}));
  const std::vector<std::string> list = SplitEndpoints(endpoints);
  if (list.empty()) return absl::InvalidArgumentError("no --endpoints given");
  const SessionTag tag = ProcessSession().NextWrite();
  RetryPolicy policy;
  policy.max_attempts = std::max(policy.max_attempts, static_cast<int>(list.size()));
  return RetryWrite<typename Result::value_type>(policy, [&](int attempt) -> Result {
    EtcdClient client(list[static_cast<size_t>(attempt) % list.size()],
                      absl::Seconds(timeout_s));
    return call(client, tag);
  });
}

// A lease id as etcdctl takes it: hexadecimal.
absl::StatusOr<int64_t> ParseLeaseId(const std::string& text) {
  uint64_t id = 0;
  if (text.empty() || !absl::SimpleHexAtoi(text, &id) || id == 0) {
    return absl::InvalidArgumentError("bad lease ID \"" + text + "\" (a hexadecimal id, as "
                                      "`lease grant` prints it)");
  }
  return static_cast<int64_t>(id);
}

}  // namespace

int LeaseGrant(const std::string& endpoints, int64_t ttl_seconds) {
  auto r = FirstAnswer(endpoints, [&](EtcdClient& c) { return c.LeaseGrant(ttl_seconds); });
  if (!r.ok()) return Fail(r.status());
  std::printf("lease %016llx granted with TTL(%llds)\n", static_cast<unsigned long long>(r->id()),
              static_cast<long long>(r->ttl()));
  return 0;
}

int LeaseRevoke(const std::string& endpoints, const std::string& id) {
  absl::StatusOr<int64_t> lease = ParseLeaseId(id);
  if (!lease.ok()) return Fail(lease.status());
  auto r = FirstAnswer(endpoints, [&](EtcdClient& c) { return c.LeaseRevoke(*lease); });
  if (!r.ok()) return Fail(r.status());
  std::printf("lease %016llx revoked\n", static_cast<unsigned long long>(*lease));
  return 0;
}

int LeaseTimeToLive(const std::string& endpoints, const std::string& id, bool keys) {
  absl::StatusOr<int64_t> lease = ParseLeaseId(id);
  if (!lease.ok()) return Fail(lease.status());
  auto r = FirstAnswer(endpoints, [&](EtcdClient& c) { return c.LeaseTimeToLive(*lease, keys); });
  if (!r.ok()) return Fail(r.status());
  const auto hex = static_cast<unsigned long long>(*lease);
  if (r->ttl() == -1) {
    std::printf("lease %016llx already expired\n", hex);
    return 0;
  }
  std::string line = absl::StrFormat("lease %016x granted with TTL(%ds), remaining(%ds)", hex,
                                     r->grantedttl(), r->ttl());
  if (keys) {
    std::vector<std::string> names(r->keys().begin(), r->keys().end());
    absl::StrAppend(&line, ", attached keys([", absl::StrJoin(names, " "), "])");
  }
  std::printf("%s\n", line.c_str());
  return 0;
}

int LeaseList(const std::string& endpoints) {
  auto r = FirstAnswer(endpoints, [&](EtcdClient& c) { return c.LeaseLeases(); });
  if (!r.ok()) return Fail(r.status());
  std::printf("found %d leases\n", r->leases_size());
  for (const auto& lease : r->leases()) {
    std::printf("%016llx\n", static_cast<unsigned long long>(lease.id()));
  }
  return 0;
}

int LeaseKeepAliveOnce(const std::string& endpoints, const std::string& id) {
  absl::StatusOr<int64_t> lease = ParseLeaseId(id);
  if (!lease.ok()) return Fail(lease.status());
  auto r = FirstAnswer(endpoints, [&](EtcdClient& c) { return c.LeaseKeepAliveOnce(*lease); });
  if (!r.ok()) return Fail(r.status());
  const auto hex = static_cast<unsigned long long>(*lease);
  if (r->ttl() <= 0) {
    std::printf("lease %016llx expired or revoked.\n", hex);
    return 1;
  }
  std::printf("lease %016llx keepalived with TTL(%lld)\n", hex, static_cast<long long>(r->ttl()));
  return 0;
}

int ClusterUp(const ClusterUpOptions& options) {
  LocalClusterOptions lc;
  lc.size = options.size;
  lc.base_port = options.base_port;
  lc.data_dir = options.data_dir;
  lc.server_path = FindServerBinary();
  LocalCluster cluster(lc);
  if (absl::Status s = cluster.StartAll(); !s.ok()) return Fail(s);
  std::printf("started %d raftkv-server processes (data and logs in %s/):\n", cluster.size(),
              options.data_dir.c_str());
  for (int i = 0; i < cluster.size(); ++i) {
    std::printf("  %s  pid %d  client %s  peer %s\n", cluster.name(i).c_str(), cluster.pid(i),
                cluster.client_url(i).c_str(), cluster.peer_url(i).c_str());
  }
  absl::StatusOr<int> leader = cluster.WaitForLeader(absl::Seconds(15));
  if (!leader.ok()) {
    Fail(leader.status());
    cluster.StopAll();
    return 1;
  }
  std::printf("leader: %s\n", cluster.name(*leader).c_str());
  std::printf("endpoints: %s\n", cluster.Endpoints().c_str());
  std::printf("try:  raftkv put greeting hello --endpoints %s\n", cluster.Endpoints().c_str());
  std::printf("      ETCDCTL_API=3 etcdctl --endpoints %s get greeting\n",
              cluster.Endpoints().c_str());
  std::printf("stop: raftkv cluster down --data-dir %s\n", options.data_dir.c_str());
  if (absl::Status s = cluster.Detach(); !s.ok()) return Fail(s);
  return 0;
}

int ClusterDown(const std::string& data_dir) {
  std::ifstream in(data_dir + "/pids");
  if (!in) {
    std::fprintf(stderr, "raftkv: no cluster started by `raftkv cluster up` in %s (no %s/pids)\n",
                 data_dir.c_str(), data_dir.c_str());
    return 1;
  }
  int pid;
  std::string name;
  while (in >> pid >> name) {
    if (::kill(pid, SIGTERM) == 0) {
      std::printf("stopping %s (pid %d)\n", name.c_str(), pid);
    }
  }
  std::remove((data_dir + "/pids").c_str());
  return 0;
}

int Put(const std::string& endpoints, const std::string& key, const std::string& value,
        const std::string& lease, double timeout_s) {
  absl::StatusOr<int64_t> lease_id = lease.empty() ? absl::StatusOr<int64_t>(0) : ParseLeaseId(lease);
  if (!lease_id.ok()) return Fail(lease_id.status());
  auto r = WriteOnce(endpoints, timeout_s, [&](EtcdClient& c, const SessionTag& tag) {
    return c.Put(key, value, false, *lease_id, tag);
  });
  if (!r.ok()) return Fail(r.status());
  std::printf("OK\n");
  return 0;
}

int Get(const std::string& endpoints, const std::string& key, bool prefix, bool serializable) {
  auto r = FirstAnswer(endpoints, [&](EtcdClient& c) {
    return c.Get(key, prefix ? PrefixEnd(key) : "", serializable);
  });
  if (!r.ok()) return Fail(r.status());
  for (const auto& kv : r->kvs()) std::printf("%s\n%s\n", kv.key().c_str(), kv.value().c_str());
  return 0;
}

int Del(const std::string& endpoints, const std::string& key, bool prefix, double timeout_s) {
  auto r = WriteOnce(endpoints, timeout_s, [&](EtcdClient& c, const SessionTag& tag) {
    return c.Delete(key, prefix ? PrefixEnd(key) : "", tag);
  });
  if (!r.ok()) return Fail(r.status());
  std::printf("%lld\n", static_cast<long long>(r->deleted()));
  return 0;
}

int Status(const std::string& endpoints) {
  int failures = 0;
  std::printf("%-22s %-17s %-17s %-6s %-10s %-10s %s\n", "ENDPOINT", "ID", "LEADER", "TERM",
              "INDEX", "APPLIED", "DB SIZE");
  for (const std::string& endpoint : SplitEndpoints(endpoints)) {
    EtcdClient client(endpoint);
    auto s = client.Status();
    if (!s.ok()) {
      std::printf("%-22s unreachable: %s\n", client.endpoint().c_str(),
                  std::string(s.status().message()).c_str());
      ++failures;
      continue;
    }
    std::printf("%-22s %-17llx %-17llx %-6llu %-10llu %-10llu %lld%s\n", client.endpoint().c_str(),
                static_cast<unsigned long long>(s->header().member_id()),
                static_cast<unsigned long long>(s->leader()),
                static_cast<unsigned long long>(s->raftterm()),
                static_cast<unsigned long long>(s->raftindex()),
                static_cast<unsigned long long>(s->raftappliedindex()),
                static_cast<long long>(s->dbsize()),
                s->leader() == s->header().member_id() ? "  (leader)" : "");
  }
  return failures == 0 ? 0 : 1;
}

int Members(const std::string& endpoints) {
  auto r = FirstAnswer(endpoints, [](EtcdClient& c) { return c.MemberList(); });
  if (!r.ok()) return Fail(r.status());
  // etcdctl's `member list` columns: id, status, name, peer URLs, client URLs, learner.
  for (const auto& m : r->members()) {
    std::printf("%llx, %s, %s, %s, %s, %s\n", static_cast<unsigned long long>(m.id()),
                m.name().empty() ? "unstarted" : "started", m.name().c_str(),
                absl::StrJoin(m.peerurls(), ",").c_str(),
                absl::StrJoin(m.clienturls(), ",").c_str(), m.islearner() ? "true" : "false");
  }
  return 0;
}

}  // namespace raftkv::cli
