#include "server/cluster_status.h"

#include <chrono>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "server/log_setup.h"

namespace raftkv::server {
namespace {

// Asks one member for its status over its first client URL; an https:// one with `tls`.
void AskMember(MemberStatus& member, absl::Duration timeout,
               const std::shared_ptr<grpc::ChannelCredentials>& tls) {
  if (member.client_urls.empty()) {
    member.error = "not started";
    return;
  }
  const std::string& url = member.client_urls.front();
  std::shared_ptr<grpc::Channel> channel;
  if (absl::StartsWith(url, "http://")) {
    channel = grpc::CreateChannel(url.substr(7), grpc::InsecureChannelCredentials());
  } else if (absl::StartsWith(url, "https://") && tls != nullptr) {
    channel = grpc::CreateChannel(url.substr(8), tls);
  } else {
    member.error = "not queried: an https:// client URL and no client TLS on this member";
    return;
  }
  auto stub = etcdserverpb::Maintenance::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + absl::ToChronoNanoseconds(timeout));
  etcdserverpb::StatusResponse response;
  const grpc::Status status = stub->Status(&context, etcdserverpb::StatusRequest(), &response);
  if (!status.ok()) {
    member.error = status.error_message();
    return;
  }
  member.reachable = true;
  member.leader = response.leader();
  member.term = response.raftterm();
  member.commit = response.raftindex();
  member.applied = response.raftappliedindex();
  member.db_size_bytes = response.dbsize();
}

double Percentile(const base::Histogram::Snapshot& s, double quantile) {
  if (s.count == 0) return 0;
  const double rank = quantile * static_cast<double>(s.count);
  for (size_t i = 0; i < s.upper_bounds.size(); ++i) {
    if (static_cast<double>(s.cumulative_counts[i]) >= rank) return s.upper_bounds[i];
  }
  return s.upper_bounds.empty() ? 0 : s.upper_bounds.back();  // beyond the last bound
}

std::string Quoted(const std::string& text) { return absl::StrCat("\"", JsonEscape(text), "\""); }

// Ids are 64-bit; JSON numbers lose precision past 2^53 in browsers, so ids travel as hex strings
// (the way etcdctl prints them).
std::string HexId(uint64_t id) { return Quoted(absl::StrCat(absl::Hex(id))); }

}  // namespace

ClusterStatusView CollectClusterStatus(etcd::Backend& backend, const NodeThread& node,
                                       const base::Histogram* fsync,
                                       absl::Duration per_member_timeout,
                                       std::shared_ptr<grpc::ChannelCredentials> tls) {
  const etcd::NodeInfo info = backend.Info();
  ClusterStatusView view;
  view.cluster_id = info.cluster_id;
  view.member_id = info.member_id;
  view.leader = info.leader_id;
  view.term = info.raft_term;
  for (const etcd::MemberInfo& m : info.members) {
    MemberStatus member{.id = m.id,
                        .name = m.name,
                        .client_urls = m.client_urls,
                        .is_learner = m.is_learner,
                        .is_self = m.id == info.member_id};
    if (member.is_self) {
      member.reachable = true;
      member.leader = info.leader_id;
      member.term = info.raft_term;
      member.commit = info.commit_index;
      member.applied = info.applied_index;
      member.db_size_bytes = info.db_size_bytes;
    } else {
      AskMember(member, per_member_timeout, tls);
    }
    view.members.push_back(std::move(member));
  }
  view.leader_changes = node.recent_leader_changes();
  if (fsync != nullptr) {
    const base::Histogram::Snapshot s = fsync->Read();
    view.fsync_count = s.count;
    view.fsync_mean_seconds = s.count == 0 ? 0 : s.sum / static_cast<double>(s.count);
    view.fsync_p99_seconds = Percentile(s, 0.99);
  }
  return view;
}

std::string StatusJson(const ClusterStatusView& view) {
  std::vector<std::string> members;
  for (const MemberStatus& m : view.members) {
    std::vector<std::string> urls;
    for (const std::string& url : m.client_urls) urls.push_back(Quoted(url));
    members.push_back(absl::StrCat(
        "{\"id\":", HexId(m.id), ",\"name\":", Quoted(m.name), ",\"client_urls\":[",
        absl::StrJoin(urls, ","), "],\"is_learner\":", m.is_learner ? "true" : "false",
        ",\"is_self\":", m.is_self ? "true" : "false",
        ",\"reachable\":", m.reachable ? "true" : "false", ",\"error\":", Quoted(m.error),
        ",\"leader\":", HexId(m.leader), ",\"term\":", m.term, ",\"commit\":", m.commit,
        ",\"applied\":", m.applied, ",\"db_size_bytes\":", m.db_size_bytes, "}"));
  }
  std::vector<std::string> changes;
  for (const NodeThread::LeaderChange& c : view.leader_changes) {
    changes.push_back(absl::StrCat("{\"time\":", Quoted(absl::FormatTime(absl::RFC3339_sec, c.when, absl::UTCTimeZone())),
                                   ",\"leader\":", HexId(c.leader), ",\"term\":", c.term, "}"));
  }
  return absl::StrCat(
      "{\"cluster_id\":", HexId(view.cluster_id), ",\"member_id\":", HexId(view.member_id),
      ",\"leader\":", HexId(view.leader), ",\"term\":", view.term, ",\"members\":[",
      absl::StrJoin(members, ","), "],\"leader_changes\":[", absl::StrJoin(changes, ","),
      "],\"wal_fsync\":{\"count\":", view.fsync_count,
      ",\"mean_seconds\":", base::FormatSampleValue(view.fsync_mean_seconds),
      ",\"p99_seconds\":", base::FormatSampleValue(view.fsync_p99_seconds), "}}");
}

}  // namespace raftkv::server
