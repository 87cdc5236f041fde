// The harness's administrative calls to one member over etcd's v3 API: status, member list,
// member add and remove, leadership transfer, the local revision and HashKV. A fresh channel
// per client, so a member that restarted is simply dialled again.
//
// Errors keep gRPC's code and the server's message unchanged (the caller decides what is worth
// retrying).
//
// Thread-safety: thread-safe (gRPC stubs are).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"

namespace raftkv::faults {

// gRPC's status as an absl::Status with the same code and message.
absl::Status FromGrpc(const grpc::Status& status);

class AdminClient {
 public:
  // `endpoint`: host:port of the member's client URL.
  AdminClient(const std::string& endpoint, absl::Duration timeout);

  absl::StatusOr<etcdserverpb::StatusResponse> Status();
  absl::StatusOr<etcdserverpb::MemberListResponse> MemberList();
  absl::StatusOr<etcdserverpb::MemberAddResponse> MemberAdd(const std::string& peer_url);
  absl::Status MemberRemove(uint64_t id);
  // Only the leader may do it (etcd's rule).
  absl::Status MoveLeader(uint64_t target_id);
  // The member's own store revision (a serializable read: no round through the leader).
  absl::StatusOr<int64_t> LocalRevision();
  absl::StatusOr<etcdserverpb::HashKVResponse> HashKV(int64_t revision);

 private:
  std::unique_ptr<grpc::ClientContext> Context() const;

  absl::Duration timeout_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance_;
  std::unique_ptr<etcdserverpb::Cluster::Stub> cluster_;
};

}  // namespace raftkv::faults
