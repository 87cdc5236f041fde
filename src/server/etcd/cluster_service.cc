#include "server/etcd/cluster_service.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "grpcpp/grpcpp.h"
#include "server/etcd/grpc_status.h"

namespace raftkv::server::etcd {
namespace {

// Marks a call one member forwarded to the leader; a forwarded call is never forwarded again,
// so two members that disagree about who leads cannot bounce it between them.
constexpr char kForwardedKey[] = "raftkv-forwarded-to-leader";

bool WasForwarded(const ::grpc::ServerContext* context) {
  return context->client_metadata().count(kForwardedKey) > 0;
}

bool IsNotLeader(const absl::Status& status) { return status == NotLeaderError(); }

// A gRPC target for an advertised client URL ("http://10.0.0.1:2379" → "10.0.0.1:2379").
std::string GrpcTarget(const std::string& url) {
  for (const char* scheme : {"http://", "https://"}) {
    if (absl::StartsWith(url, scheme)) return url.substr(std::string(scheme).size());
  }
  return url;
}

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

ClusterService::ClusterService(Backend* backend, absl::Duration request_timeout)
    : backend_(backend), request_timeout_(request_timeout) {}

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
  if (!IsNotLeader(change_status) || WasForwarded(context)) {
    if (!change_status.ok()) return ToGrpcStatus(change_status);
    FillMembers(response);
    return ::grpc::Status::OK;
  }
  const NodeInfo info = backend_->Info();
  if (info.leader_id == 0) return ToGrpcStatus(NoLeaderError());
  std::string target;
  for (const MemberInfo& member : info.members) {
    if (member.id == info.leader_id && !member.client_urls.empty()) {
      target = GrpcTarget(member.client_urls.front());
    }
  }
  if (target.empty()) {
    // The leader has not announced its client URLs yet (it only just started).
    return ToGrpcStatus(TimeoutError());
  }
  std::shared_ptr<::grpc::Channel> channel =
      ::grpc::CreateChannel(target, ::grpc::InsecureChannelCredentials());
  std::unique_ptr<etcdserverpb::Cluster::Stub> stub = etcdserverpb::Cluster::NewStub(channel);
  ::grpc::ClientContext client;
  client.set_deadline(absl::ToChronoTime(CallDeadline(context, request_timeout_)));
  client.AddMetadata(kForwardedKey, "1");
  ::grpc::Status status = forward(*stub, &client, request, response);
  if (status.error_code() == ::grpc::StatusCode::UNAVAILABLE &&
      !absl::StartsWith(status.error_message(), "etcdserver:")) {
    // The leader could not be reached (a transport failure, not its answer).
    return ToGrpcStatus(LeaderChangedError());
  }
  return status;
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
