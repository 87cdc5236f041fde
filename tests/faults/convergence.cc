#include "convergence.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "etcd_client.h"

namespace raftkv::faults {
namespace {

// The member's own store revision: a serializable read, no round through the leader.
absl::StatusOr<int64_t> LocalRevision(const std::string& endpoint) {
  const std::string every_key(1, '\0');
  absl::StatusOr<etcdserverpb::RangeResponse> r =
      cli::EtcdClient(endpoint, absl::Seconds(1)).Get(every_key, every_key, /*serializable=*/true,
                                                      /*limit=*/1);
  if (!r.ok()) return r.status();
  return r->header().revision();
}

// Every member's own revision, or a description of who did not answer.
bool SameRevision(FaultCluster& cluster, int64_t* revision, std::string* seen) {
  std::vector<std::string> parts;
  bool same = true;
  for (int i = 0; i < cluster.size(); ++i) {
    absl::StatusOr<int64_t> r = LocalRevision(cluster.endpoint(i));
    if (!r.ok()) {
      parts.push_back(absl::StrCat(cluster.name(i), " ", r.status().message()));
      same = false;
      continue;
    }
    parts.push_back(absl::StrCat(cluster.name(i), " at ", *r));
    if (i == 0) *revision = *r;
    if (*r != *revision) same = false;
  }
  *seen = absl::StrJoin(parts, ", ");
  return same;
}

}  // namespace

ConvergenceResult CheckConvergence(FaultCluster& cluster, RunLog& log, absl::Duration timeout) {
  ConvergenceResult result;
  const absl::Time deadline = absl::Now() + timeout;
  std::string seen;
  int64_t previous = -1;
  while (true) {
    int64_t revision = 0;
    // The clients have stopped, so the revision no longer moves; twice the same (half a second
    // apart) rules out a member that is still applying.
    if (SameRevision(cluster, &revision, &seen)) {
      if (revision == previous) {
        result.converged = true;
        result.revision = revision;
        break;
      }
      previous = revision;
    } else {
      previous = -1;
    }
    if (absl::Now() >= deadline) break;
    absl::SleepFor(absl::Milliseconds(500));
  }
  if (!result.converged) {
    result.detail = absl::StrCat("members did not reach the same revision within ",
                                 absl::FormatDuration(timeout), ": ", seen);
    log.Line("convergence: " + result.detail);
    return result;
  }
  log.Print("convergence: every member at revision {}", result.revision);

  std::vector<std::string> hashes;
  bool agree = true;
  std::string first;
  for (int i = 0; i < cluster.size(); ++i) {
    absl::StatusOr<etcdserverpb::HashKVResponse> h =
        cli::EtcdClient(cluster.endpoint(i), absl::Seconds(5)).HashKV(result.revision);
    std::string said;
    if (h.ok()) {
      said = absl::StrCat("hash ", h->hash(), " compact revision ", h->compact_revision());
    } else {
      said = absl::StrCat("error ", h.status().message());
      agree = false;
    }
    if (i == 0) first = said;
    if (said != first) agree = false;
    hashes.push_back(absl::StrCat(cluster.name(i), ": ", said));
  }
  result.hashes_agree = agree;
  result.detail =
      absl::StrCat("HashKV at revision ", result.revision, ": ", absl::StrJoin(hashes, "; "));
  log.Print("convergence: {} ({})", result.detail, agree ? "agree" : "DIFFER");
  return result;
}

}  // namespace raftkv::faults
