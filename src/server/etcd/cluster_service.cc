#include "server/etcd/cluster_service.h"

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "server/etcd/grpc_status.h"

namespace raftkv::server::etcd {
namespace {

bool IsNotLeader(const absl::Status& status) { return status == NotLeaderError(); }

void CopyMember(const MemberInfo& member, etcdserverpb::Member* out) {
  out->set_id(member.id);
  out->set_name(member.name);
  for (const std::string& url : member.peer_urls) out->add_peerurls(url);
  for (const std::string& url : member.client_urls) out->add_clienturls(url);
  out->set_islearner(member.is_learner);
}

std::vector<std::string> Urls(const google::protobuf::RepeatedPtrField<std::string>& urls) {
  return {urls.begin(), urls.end()};
}

}  // namespace

ClusterService::ClusterService(Backend* backend, LeaderForwarder* forwarder,
                               absl::Duration request_timeout)
    : backend_(backend), forwarder_(forwarder), request_timeout_(request_timeout) {}

template <typename Response>
void ClusterService::FillMembers(Response* response) {
  const NodeInfo info = backend_->Info();
  // etcd leaves header.revision at 0 for membership answers.
  etcdserverpb::ResponseHeader* header = response->mutable_header();
  header->set_cluster_id(info.cluster_id);
  header->set_member_id(info.member_id);
  header->set_raft_term(info.raft_term);
  response->clear_members();
  for (const MemberInfo& member : info.members) CopyMember(member, response->add_members());
}

template <typename Request, typename Response, typename Forward>
::grpc::Status ClusterService::ChangeOrForward(::grpc::ServerContext* context,
                                               const Request& request, Response* response,
                                               absl::Status change_status, Forward forward) {
  if (!IsNotLeader(change_status) || LeaderForwarder::WasForwarded(*context)) {
    if (!change_status.ok()) return ToGrpcStatus(change_status);
    FillMembers(response);
    return ::grpc::Status::OK;
  }
  // Membership calls are rare and the Cluster service runs on gRPC's synchronous threads, so
  // one forwarded attempt is made and waited for here.
  absl::StatusOr<std::shared_ptr<::grpc::Channel>> channel = forwarder_->LeaderChannel();
  if (!channel.ok()) return ToGrpcStatus(channel.status());
  std::unique_ptr<etcdserverpb::Cluster::Stub> stub = etcdserverpb::Cluster::NewStub(*channel);
  ::grpc::ClientContext client;
  LeaderForwarder::Prepare(client, CallDeadline(context, request_timeout_));
  return ToGrpcStatus(LeaderForwarder::Relay(forward(*stub, &client, request, response)));
}

::grpc::Status ClusterService::MemberList(::grpc::ServerContext*,
                                          const etcdserverpb::MemberListRequest*,
                                          etcdserverpb::MemberListResponse* response) {
  FillMembers(response);
  return ::grpc::Status::OK;
}

::grpc::Status ClusterService::MemberAdd(::grpc::ServerContext* context,
                                         const etcdserverpb::MemberAddRequest* request,
                                         etcdserverpb::MemberAddResponse* response) {
  absl::StatusOr<MemberInfo> added = backend_->AddMember(
      Urls(request->peerurls()), request->islearner(), CallDeadline(context, request_timeout_));
  if (added.ok()) CopyMember(*added, response->mutable_member());
  return ChangeOrForward(
      context, *request, response, added.status(),
      [](etcdserverpb::Cluster::Stub& stub, ::grpc::ClientContext* client,
         const etcdserverpb::MemberAddRequest& r,
         etcdserverpb::MemberAddResponse* out) { return stub.MemberAdd(client, r, out); });
}

::grpc::Status ClusterService::MemberRemove(::grpc::ServerContext* context,
                                            const etcdserverpb::MemberRemoveRequest* request,
                                            etcdserverpb::MemberRemoveResponse* response) {
  absl::Status removed =
      backend_->RemoveMember(request->id(), CallDeadline(context, request_timeout_));
  return ChangeOrForward(
      context, *request, response, removed,
      [](etcdserverpb::Cluster::Stub& stub, ::grpc::ClientContext* client,
         const etcdserverpb::MemberRemoveRequest& r,
         etcdserverpb::MemberRemoveResponse* out) { return stub.MemberRemove(client, r, out); });
}

::grpc::Status ClusterService::MemberPromote(::grpc::ServerContext* context,
                                             const etcdserverpb::MemberPromoteRequest* request,
                                             etcdserverpb::MemberPromoteResponse* response) {
  absl::Status promoted =
      backend_->PromoteMember(request->id(), CallDeadline(context, request_timeout_));
  return ChangeOrForward(
      context, *request, response, promoted,
      [](etcdserverpb::Cluster::Stub& stub, ::grpc::ClientContext* client,
         const etcdserverpb::MemberPromoteRequest& r,
         etcdserverpb::MemberPromoteResponse* out) { return stub.MemberPromote(client, r, out); });
}

::grpc::Status ClusterService::MemberUpdate(::grpc::ServerContext* context,
                                            const etcdserverpb::MemberUpdateRequest* request,
                                            etcdserverpb::MemberUpdateResponse* response) {
  absl::Status updated = backend_->UpdateMember(request->id(), Urls(request->peerurls()),
                                                CallDeadline(context, request_timeout_));
  return ChangeOrForward(
      context, *request, response, updated,
      [](etcdserverpb::Cluster::Stub& stub, ::grpc::ClientContext* client,
         const etcdserverpb::MemberUpdateRequest& r,
         etcdserverpb::MemberUpdateResponse* out) { return stub.MemberUpdate(client, r, out); });
}

}  // namespace raftkv::server::etcd
