#include "admin_client.h"

#include "grpcpp/grpcpp.h"

namespace raftkv::faults {

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

AdminClient::AdminClient(const std::string& endpoint, absl::Duration timeout) : timeout_(timeout) {
  grpc::ChannelArguments args;
  // Its own connection, not one shared with the clients' channels to the same address.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  channel_ = grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
  kv_ = etcdserverpb::KV::NewStub(channel_);
  maintenance_ = etcdserverpb::Maintenance::NewStub(channel_);
  cluster_ = etcdserverpb::Cluster::NewStub(channel_);
}

std::unique_ptr<grpc::ClientContext> AdminClient::Context() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  return context;
}

absl::StatusOr<etcdserverpb::StatusResponse> AdminClient::Status() {
  etcdserverpb::StatusResponse response;
  absl::Status s =
      FromGrpc(maintenance_->Status(Context().get(), etcdserverpb::StatusRequest(), &response));
  if (!s.ok()) return s;
  return response;
}

absl::StatusOr<etcdserverpb::MemberListResponse> AdminClient::MemberList() {
  etcdserverpb::MemberListResponse response;
  absl::Status s =
      FromGrpc(cluster_->MemberList(Context().get(), etcdserverpb::MemberListRequest(), &response));
  if (!s.ok()) return s;
  return response;
}

absl::StatusOr<etcdserverpb::MemberAddResponse> AdminClient::MemberAdd(
    const std::string& peer_url) {
  etcdserverpb::MemberAddRequest request;
  request.add_peerurls(peer_url);
  etcdserverpb::MemberAddResponse response;
  absl::Status s = FromGrpc(cluster_->MemberAdd(Context().get(), request, &response));
  if (!s.ok()) return s;
  return response;
}

absl::Status AdminClient::MemberRemove(uint64_t id) {
  etcdserverpb::MemberRemoveRequest request;
  request.set_id(id);
  etcdserverpb::MemberRemoveResponse response;
  return FromGrpc(cluster_->MemberRemove(Context().get(), request, &response));
}

absl::Status AdminClient::MoveLeader(uint64_t target_id) {
  etcdserverpb::MoveLeaderRequest request;
  request.set_targetid(target_id);
  etcdserverpb::MoveLeaderResponse response;
  return FromGrpc(maintenance_->MoveLeader(Context().get(), request, &response));
}

absl::StatusOr<int64_t> AdminClient::LocalRevision() {
  etcdserverpb::RangeRequest request;
  request.set_key("\0", 1);
  request.set_serializable(true);
  request.set_count_only(true);
  etcdserverpb::RangeResponse response;
  absl::Status s = FromGrpc(kv_->Range(Context().get(), request, &response));
  if (!s.ok()) return s;
  return response.header().revision();
}

absl::StatusOr<etcdserverpb::HashKVResponse> AdminClient::HashKV(int64_t revision) {
  etcdserverpb::HashKVRequest request;
  request.set_revision(revision);
  etcdserverpb::HashKVResponse response;
  absl::Status s = FromGrpc(maintenance_->HashKV(Context().get(), request, &response));
  if (!s.ok()) return s;
  return response;
}

}  // namespace raftkv::faults
