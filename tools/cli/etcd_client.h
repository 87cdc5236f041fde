// A small etcd v3 client for the raftkv tool and the test harnesses: one gRPC channel (and
// connection) per client, unary calls with a deadline, errors turned into messages a person can
// act on (the gRPC status code is kept).
//
// Thread-safety: thread-safe (gRPC stubs are).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client_session.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"

namespace raftkv::cli {

// "http://127.0.0.1:2379" or "127.0.0.1:2379" → "127.0.0.1:2379".
std::string StripScheme(const std::string& endpoint);

class EtcdClient {
 public:
  explicit EtcdClient(const std::string& endpoint, absl::Duration timeout = absl::Seconds(5));

  const std::string& endpoint() const { return endpoint_; }

  // With a `session` tag, the write carries it as metadata (client_session.h): a raftkv server
  // applies it at most once, whatever number of times it is sent with that tag.
  absl::StatusOr<etcdserverpb::PutResponse> Put(const std::string& key, const std::string& value,
                                                bool prev_kv = false, int64_t lease = 0,
                                                std::optional<SessionTag> session = std::nullopt);
  absl::StatusOr<etcdserverpb::RangeResponse> Get(const std::string& key,
                                                  const std::string& range_end = "",
                                                  bool serializable = false, int64_t limit = 0);
  absl::StatusOr<etcdserverpb::DeleteRangeResponse> Delete(
      const std::string& key, const std::string& range_end = "",
      std::optional<SessionTag> session = std::nullopt);
  absl::StatusOr<etcdserverpb::TxnResponse> Txn(const etcdserverpb::TxnRequest& request);
  // KV.Compact: history below `revision` goes (etcd's "required revision has been compacted"
  // for reads there afterwards).
  absl::StatusOr<etcdserverpb::CompactionResponse> Compact(int64_t revision, bool physical = false);
  absl::StatusOr<etcdserverpb::StatusResponse> Status();
  absl::StatusOr<etcdserverpb::MemberListResponse> MemberList();
  absl::StatusOr<etcdserverpb::MemberAddResponse> MemberAdd(const std::string& peer_url);
  absl::StatusOr<etcdserverpb::MemberRemoveResponse> MemberRemove(uint64_t id);
  // Only the leader may move leadership (etcd's rule).
  absl::StatusOr<etcdserverpb::MoveLeaderResponse> MoveLeader(uint64_t target_id);
  absl::StatusOr<etcdserverpb::HashKVResponse> HashKV(int64_t revision);

  absl::StatusOr<etcdserverpb::LeaseGrantResponse> LeaseGrant(int64_t ttl_seconds);
  absl::StatusOr<etcdserverpb::LeaseRevokeResponse> LeaseRevoke(int64_t id);
  absl::StatusOr<etcdserverpb::LeaseTimeToLiveResponse> LeaseTimeToLive(int64_t id, bool keys);
  absl::StatusOr<etcdserverpb::LeaseLeasesResponse> LeaseLeases();
  // One keep-alive round on a stream of its own (etcdctl lease keep-alive --once).
  absl::StatusOr<etcdserverpb::LeaseKeepAliveResponse> LeaseKeepAliveOnce(int64_t id);

 private:
  std::unique_ptr<grpc::ClientContext> Context(
      const std::optional<SessionTag>& session = std::nullopt) const;

  std::string endpoint_;
  absl::Duration timeout_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance_;
  std::unique_ptr<etcdserverpb::Cluster::Stub> cluster_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
};

// The range_end that selects every key starting with `prefix` (etcd's --prefix).
std::string PrefixEnd(const std::string& prefix);

}  // namespace raftkv::cli
