#include "server/etcd/maintenance_service.h"

#include <algorithm>
#include <future>
#include <memory>
#include <utility>

#include "kv/store.h"
#include "kv/validate.h"
#include "server/etcd/grpc_status.h"

namespace raftkv::server::etcd {

MaintenanceService::MaintenanceService(Backend* backend, std::string version,
                                       absl::Duration request_timeout)
    : backend_(backend), version_(std::move(version)), request_timeout_(request_timeout) {}

void MaintenanceService::FillHeader(etcdserverpb::ResponseHeader* header) {
  const HeaderInfo info = backend_->Header();
  header->set_cluster_id(info.cluster_id);
  header->set_member_id(info.member_id);
  header->set_raft_term(info.raft_term);
  int64_t revision = 0;
  backend_->Read([&](const kv::Store& store) { revision = store.revision(); });
  header->set_revision(revision);
}

::grpc::Status MaintenanceService::Status(::grpc::ServerContext*,
                                          const etcdserverpb::StatusRequest*,
                                          etcdserverpb::StatusResponse* response) {
  const NodeInfo info = backend_->Info();
  FillHeader(response->mutable_header());
  response->set_version(version_);
  response->set_dbsize(info.db_size_bytes);
  response->set_dbsizeinuse(info.db_size_bytes);
  response->set_leader(info.leader_id);
  // etcd reports the commit index as raftIndex and the applied index separately.
  response->set_raftindex(info.commit_index);
  response->set_raftterm(info.raft_term);
  response->set_raftappliedindex(info.applied_index);
  response->set_islearner(info.is_learner);
  if (info.leader_id == 0) response->add_errors(std::string(NoLeaderError().message()));
  return ::grpc::Status::OK;
}

::grpc::Status MaintenanceService::Alarm(::grpc::ServerContext* context,
                                         const etcdserverpb::AlarmRequest* request,
                                         etcdserverpb::AlarmResponse* response) {
  if (absl::Status valid = kv::ValidateAlarm(*request); !valid.ok()) return ToGrpcStatus(valid);
  if (request->action() == etcdserverpb::AlarmRequest::ACTIVATE) {
    // Alarms are kept per member: one for a member that does not exist could never be told
    // apart from a real one, and would let a client grow the replicated state at will.
    const NodeInfo info = backend_->Info();
    const bool known =
        std::any_of(info.members.begin(), info.members.end(),
                    [&](const MemberInfo& m) { return m.id == request->memberid(); });
    if (!known) return ToGrpcStatus(MemberNotFoundError());
  }
  kvpb::Request write;
  *write.mutable_alarm() = *request;
  auto answer = std::make_shared<std::promise<absl::StatusOr<kvpb::Response>>>();
  std::future<absl::StatusOr<kvpb::Response>> done = answer->get_future();
  backend_->Write(
      std::move(write), CallDeadline(context, request_timeout_),
      [answer](absl::StatusOr<kvpb::Response> result) { answer->set_value(std::move(result)); });
  // The backend answers by the deadline at the latest.
  absl::StatusOr<kvpb::Response> result = done.get();
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(*result->mutable_alarm());
  FillHeader(response->mutable_header());
  return ::grpc::Status::OK;
}

::grpc::Status MaintenanceService::Defragment(::grpc::ServerContext*,
                                              const etcdserverpb::DefragmentRequest*,
                                              etcdserverpb::DefragmentResponse* response) {
  FillHeader(response->mutable_header());
  return ::grpc::Status::OK;
}

::grpc::Status MaintenanceService::HashKV(::grpc::ServerContext*,
                                          const etcdserverpb::HashKVRequest* request,
                                          etcdserverpb::HashKVResponse* response) {
  absl::StatusOr<kv::HashKVResult> result;
  int64_t revision = 0;
  backend_->Read([&](const kv::Store& store) {
    result = store.HashKV(request->revision());
    revision = store.revision();
  });
  if (!result.ok()) return ToGrpcStatus(result.status());
  FillHeader(response->mutable_header());
  response->mutable_header()->set_revision(revision);
  response->set_hash(result->hash);
  response->set_compact_revision(result->compact_revision);
  return ::grpc::Status::OK;
}

::grpc::Status MaintenanceService::MoveLeader(::grpc::ServerContext* context,
                                              const etcdserverpb::MoveLeaderRequest* request,
                                              etcdserverpb::MoveLeaderResponse* response) {
  absl::Status moved =
      backend_->MoveLeader(request->targetid(), CallDeadline(context, request_timeout_));
  if (!moved.ok()) return ToGrpcStatus(moved);
  FillHeader(response->mutable_header());
  return ::grpc::Status::OK;
}

}  // namespace raftkv::server::etcd
