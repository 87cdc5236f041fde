// `raftkv demo`: the README's main job. A local three-member cluster survives the loss of its
// leader, and the lost member catches up when it returns.
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "commands.h"
#include "etcd_client.h"
#include "local_cluster.h"

namespace raftkv::cli {
namespace {

void Step(const char* what) { std::printf("\n== %s\n", what); }

int Abort(LocalCluster& cluster, const std::string& why) {
  std::fprintf(stderr, "\ndemo failed: %s\n(member logs are in the data directory)\n", why.c_str());
  cluster.StopAll();
  return 1;
}

// Writes through any running member other than `avoid`, retrying briefly while a new leader
// settles (clients of etcd do the same).
absl::Status WriteThroughCluster(LocalCluster& cluster, const std::string& key,
                                 const std::string& value, int* via) {
  absl::Status last = absl::UnavailableError("no running member");
  for (int attempt = 0; attempt < 50; ++attempt) {
    for (int i = 0; i < cluster.size(); ++i) {
      if (!cluster.running(i)) continue;
      EtcdClient client(cluster.endpoint(i), absl::Seconds(3));
      absl::StatusOr<etcdserverpb::PutResponse> r = client.Put(key, value);
      if (r.ok()) {
        *via = i;
        return absl::OkStatus();
      }
      last = r.status();
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  return last;
}

}  // namespace

int Demo(const DemoOptions& options) {
  std::string data_dir = options.data_dir;
  if (data_dir.empty()) {
    char tmpl[] = "/tmp/raftkv-demo-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
      std::perror("mkdtemp");
      return 1;
    }
    data_dir = tmpl;
  }
  LocalClusterOptions lc;
  lc.size = 3;
  lc.base_port = options.base_port;
  lc.data_dir = data_dir;
  lc.server_path = FindServerBinary();
  lc.snapshot_count = 50;  // small, so the returning member shows a snapshot catch-up too
  LocalCluster cluster(lc);

  Step("1. Start a three-member cluster on 127.0.0.1");
  if (absl::Status s = cluster.StartAll(); !s.ok()) return Abort(cluster, std::string(s.message()));
  for (int i = 0; i < 3; ++i) {
    std::printf("   %s  pid %-7d client %s  peer %s\n", cluster.name(i).c_str(), cluster.pid(i),
                cluster.client_url(i).c_str(), cluster.peer_url(i).c_str());
  }
  absl::Time t0 = absl::Now();
  absl::StatusOr<int> leader = cluster.WaitForLeader(absl::Seconds(15));
  if (!leader.ok()) return Abort(cluster, std::string(leader.status().message()));
  std::printf("   elected %s as leader after %s\n", cluster.name(*leader).c_str(),
              absl::FormatDuration(absl::Trunc(absl::Now() - t0, absl::Milliseconds(1))).c_str());

  Step("2. Write through a follower, read from every member");
  int via = (*leader + 1) % 3;
  {
    EtcdClient client(cluster.endpoint(via));
    absl::StatusOr<etcdserverpb::PutResponse> r = client.Put("greeting", "hello, raft");
    if (!r.ok()) return Abort(cluster, std::string(r.status().message()));
    std::printf(
        "   put greeting=\"hello, raft\" via %s (a follower: it forwards to the leader) "
        "-> revision %lld\n",
        cluster.name(via).c_str(), static_cast<long long>(r->header().revision()));
  }
  for (int i = 0; i < 3; ++i) {
    EtcdClient client(cluster.endpoint(i));
    absl::StatusOr<etcdserverpb::RangeResponse> r = client.Get("greeting");
    if (!r.ok() || r->kvs_size() != 1) {
      return Abort(cluster, absl::StrCat("reading from ", cluster.name(i), " failed"));
    }
    std::printf("   get greeting from %s -> \"%s\" (linearizable read)\n", cluster.name(i).c_str(),
                r->kvs(0).value().c_str());
  }

  Step("3. Kill the leader with SIGKILL");
  const int old_leader = *leader;
  std::printf("   kill -9 %d (%s, the leader)\n", cluster.pid(old_leader),
              cluster.name(old_leader).c_str());
  cluster.Kill(old_leader);
  t0 = absl::Now();
  leader = cluster.WaitForLeader(absl::Seconds(15));
  if (!leader.ok()) return Abort(cluster, std::string(leader.status().message()));
  std::printf("   the two survivors elected %s after %s\n", cluster.name(*leader).c_str(),
              absl::FormatDuration(absl::Trunc(absl::Now() - t0, absl::Milliseconds(1))).c_str());

  Step("4. Keep writing with one member down");
  for (int k = 1; k <= 100; ++k) {
    if (absl::Status s =
            WriteThroughCluster(cluster, absl::StrCat("counter/", k), absl::StrCat(k), &via);
        !s.ok()) {
      return Abort(cluster, std::string(s.message()));
    }
  }
  std::printf("   wrote counter/1 .. counter/100 through the surviving members\n");
  {
    EtcdClient client(cluster.endpoint(*leader));
    absl::StatusOr<etcdserverpb::RangeResponse> r =
        client.Get("counter/", PrefixEnd("counter/"), false, 0);
    if (!r.ok()) return Abort(cluster, std::string(r.status().message()));
    std::printf("   get --prefix counter/ -> %lld keys\n", static_cast<long long>(r->count()));
  }

  Step("5. Restart the old leader and watch it catch up");
  if (absl::Status s = cluster.Start(old_leader); !s.ok()) {
    return Abort(cluster, std::string(s.message()));
  }
  std::printf("   restarted %s (pid %d) with its data directory\n",
              cluster.name(old_leader).c_str(), cluster.pid(old_leader));
  t0 = absl::Now();
  bool caught_up = false;
  while (absl::Now() - t0 < absl::Seconds(20) && !caught_up) {
    // A serializable read answers from the member's own copy: it shows what that member has.
    EtcdClient client(cluster.endpoint(old_leader), absl::Milliseconds(500));
    absl::StatusOr<etcdserverpb::RangeResponse> r = client.Get("counter/100", "", true);
    caught_up = r.ok() && r->kvs_size() == 1 && r->kvs(0).value() == "100";
    if (!caught_up) absl::SleepFor(absl::Milliseconds(50));
  }
  if (!caught_up) return Abort(cluster, cluster.name(old_leader) + " did not catch up");
  std::printf("   %s has counter/100 in its own store after %s\n", cluster.name(old_leader).c_str(),
              absl::FormatDuration(absl::Trunc(absl::Now() - t0, absl::Milliseconds(1))).c_str());
  for (int i = 0; i < 3; ++i) {
    EtcdClient client(cluster.endpoint(i));
    absl::StatusOr<etcdserverpb::StatusResponse> s = client.Status();
    if (!s.ok()) continue;
    std::printf("   %s: term %llu, applied index %llu%s\n", cluster.name(i).c_str(),
                static_cast<unsigned long long>(s->raftterm()),
                static_cast<unsigned long long>(s->raftappliedindex()),
                s->leader() == s->header().member_id() ? "  (leader)" : "");
  }

  Step("6. Stop everything");
  int failures = 0;
  for (int i = 0; i < 3; ++i) {
    absl::Status s = cluster.Stop(i);
    std::printf("   %s: %s\n", cluster.name(i).c_str(),
                s.ok() ? "stopped cleanly (SIGTERM)" : std::string(s.message()).c_str());
    if (!s.ok()) ++failures;
  }
  if (options.data_dir.empty() && !options.keep && failures == 0) {
    std::error_code ignored;
    std::filesystem::remove_all(data_dir, ignored);
  } else {
    std::printf("   data and logs kept in %s\n", data_dir.c_str());
  }
  std::printf("\ndemo %s\n",
              failures == 0 ? "finished: every step succeeded" : "finished with errors");
  return failures == 0 ? 0 : 1;
}

}  // namespace raftkv::cli
