#include "etcd_client.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"

namespace raftkv::cli {
namespace {

absl::Status FromGrpc(const grpc::Status& s, const std::string& endpoint) {
  if (s.ok()) return absl::OkStatus();
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE &&
      !absl::StartsWith(s.error_message(), "etcdserver:")) {
    return absl::UnavailableError(
        absl::StrCat("cannot reach a raftkv server at ", endpoint, " (", s.error_message(),
                     "); start a cluster with `raftkv cluster up` or pass --endpoints"));
  }
  if (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::DeadlineExceededError(
        absl::StrCat(endpoint, " did not answer in time; is the cluster up and has a leader?"));
  }
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(endpoint, ": ", s.error_message()));
}

// A connection of this client's own: gRPC otherwise shares one connection between channels to
// the same address, so a client made after a member restarted, or beside clients whose calls
// are stalled, would inherit their connection.
std::shared_ptr<grpc::Channel> OwnChannel(const std::string& endpoint) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
}

}  // namespace

std::string StripScheme(const std::string& endpoint) {
  for (const char* scheme : {"http://", "https://"}) {
    if (absl::StartsWith(endpoint, scheme)) return endpoint.substr(std::string(scheme).size());
  }
  return endpoint;
}

std::string PrefixEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xFF) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

EtcdClient::EtcdClient(const std::string& endpoint, absl::Duration timeout)
    : endpoint_(StripScheme(endpoint)),
      timeout_(timeout),
      channel_(OwnChannel(endpoint_)),
      kv_(etcdserverpb::KV::NewStub(channel_)),
      maintenance_(etcdserverpb::Maintenance::NewStub(channel_)),
      cluster_(etcdserverpb::Cluster::NewStub(channel_)),
      lease_(etcdserverpb::Lease::NewStub(channel_)) {}

std::unique_ptr<grpc::ClientContext> EtcdClient::Context(
    const std::optional<SessionTag>& session) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  if (session) AttachSessionTag(*session, context.get());
  return context;
}

absl::StatusOr<etcdserverpb::PutResponse> EtcdClient::Put(const std::string& key,
                                                          const std::string& value, bool prev_kv,
                                                          int64_t lease,
                                                          std::optional<SessionTag> session) {
  etcdserverpb::PutRequest request;
  request.set_key(key);
  request.set_value(value);
  request.set_prev_kv(prev_kv);
  request.set_lease(lease);
  etcdserverpb::PutResponse response;
  if (absl::Status s = FromGrpc(kv_->Put(Context(session).get(), request, &response), endpoint_);
      !s.ok()) {
    return s;
  }
  return response;
}

absl::StatusOr<etcdserverpb::RangeResponse> EtcdClient::Get(const std::string& key,
                                                            const std::string& range_end,
                                                            bool serializable, int64_t limit) {
  etcdserverpb::RangeRequest request;
  request.set_key(key);
  request.set_range_end(range_end);
  request.set_serializable(serializable);
  request.set_limit(limit);
  etcdserverpb::RangeResponse response;
  if (absl::Status s = FromGrpc(kv_->Range(Context().get(), request, &response), endpoint_);
      !s.ok()) {
    return s;
  }
  return response;
}

absl::StatusOr<etcdserverpb::DeleteRangeResponse> EtcdClient::Delete(
    const std::string& key, const std::string& range_end, std::optional<SessionTag> session) {
  etcdserverpb::DeleteRangeRequest request;
  request.set_key(key);
  request.set_range_end(range_end);
  etcdserverpb::DeleteRangeResponse response;
  if (absl::Status s =
          FromGrpc(kv_->DeleteRange(Context(session).get(), request, &response), endpoint_);
      !s.ok()) {
    return s;
  }
  return response;
}

absl::StatusOr<etcdserverpb::StatusResponse> EtcdClient::Status() {
  etcdserverpb::StatusResponse response;
  if (absl::Status s =
          FromGrpc(maintenance_->Status(Context().get(), etcdserverpb::StatusRequest(), &response),
                   endpoint_);
      !s.ok()) {
    return s;
  }
  return response;
}

absl::StatusOr<etcdserverpb::MemberListResponse> EtcdClient::MemberList() {
  etcdserverpb::MemberListResponse response;
  if (absl::Status s = FromGrpc(
          cluster_->MemberList(Context().get(), etcdserverpb::MemberListRequest(), &response),
          endpoint_);
      !s.ok()) {
    return s;
  }
  return response;
}

// One unary call on `stub_call` with this client's deadline and error mapping.
#define RAFTKV_CLI_UNARY(Response, call)                                            \
  Response response;                                                                \
  if (absl::Status s = FromGrpc(call(Context().get(), request, &response), endpoint_); \
      !s.ok()) {                                                                    \
    return s;                                                                       \
  }                                                                                 \
  return response

absl::StatusOr<etcdserverpb::LeaseGrantResponse> EtcdClient::LeaseGrant(int64_t ttl_seconds) {
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(ttl_seconds);
  RAFTKV_CLI_UNARY(etcdserverpb::LeaseGrantResponse, lease_->LeaseGrant);
}

absl::StatusOr<etcdserverpb::LeaseRevokeResponse> EtcdClient::LeaseRevoke(int64_t id) {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(id);
  RAFTKV_CLI_UNARY(etcdserverpb::LeaseRevokeResponse, lease_->LeaseRevoke);
}

absl::StatusOr<etcdserverpb::LeaseTimeToLiveResponse> EtcdClient::LeaseTimeToLive(int64_t id,
                                                                                   bool keys) {
  etcdserverpb::LeaseTimeToLiveRequest request;
  request.set_id(id);
  request.set_keys(keys);
  RAFTKV_CLI_UNARY(etcdserverpb::LeaseTimeToLiveResponse, lease_->LeaseTimeToLive);
}

absl::StatusOr<etcdserverpb::LeaseLeasesResponse> EtcdClient::LeaseLeases() {
  etcdserverpb::LeaseLeasesRequest request;
  RAFTKV_CLI_UNARY(etcdserverpb::LeaseLeasesResponse, lease_->LeaseLeases);
}

absl::StatusOr<etcdserverpb::MemberAddResponse> EtcdClient::MemberAdd(
    const std::string& peer_url) {
  etcdserverpb::MemberAddRequest request;
  request.add_peerurls(peer_url);
  RAFTKV_CLI_UNARY(etcdserverpb::MemberAddResponse, cluster_->MemberAdd);
}

absl::StatusOr<etcdserverpb::MemberRemoveResponse> EtcdClient::MemberRemove(uint64_t id) {
  etcdserverpb::MemberRemoveRequest request;
  request.set_id(id);
  RAFTKV_CLI_UNARY(etcdserverpb::MemberRemoveResponse, cluster_->MemberRemove);
}

absl::StatusOr<etcdserverpb::MoveLeaderResponse> EtcdClient::MoveLeader(uint64_t target_id) {
  etcdserverpb::MoveLeaderRequest request;
  request.set_targetid(target_id);
  RAFTKV_CLI_UNARY(etcdserverpb::MoveLeaderResponse, maintenance_->MoveLeader);
}

absl::StatusOr<etcdserverpb::TxnResponse> EtcdClient::Txn(
    const etcdserverpb::TxnRequest& request) {
  RAFTKV_CLI_UNARY(etcdserverpb::TxnResponse, kv_->Txn);
}

absl::StatusOr<etcdserverpb::CompactionResponse> EtcdClient::Compact(int64_t revision,
                                                                     bool physical) {
  etcdserverpb::CompactionRequest request;
  request.set_revision(revision);
  request.set_physical(physical);
  RAFTKV_CLI_UNARY(etcdserverpb::CompactionResponse, kv_->Compact);
}

absl::StatusOr<etcdserverpb::HashKVResponse> EtcdClient::HashKV(int64_t revision) {
  etcdserverpb::HashKVRequest request;
  request.set_revision(revision);
  RAFTKV_CLI_UNARY(etcdserverpb::HashKVResponse, maintenance_->HashKV);
}

#undef RAFTKV_CLI_UNARY

absl::StatusOr<etcdserverpb::LeaseKeepAliveResponse> EtcdClient::LeaseKeepAliveOnce(int64_t id) {
  std::unique_ptr<grpc::ClientContext> context = Context();
  auto stream = lease_->LeaseKeepAlive(context.get());
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(id);
  etcdserverpb::LeaseKeepAliveResponse response;
  if (stream->Write(request) && stream->Read(&response)) {
    // One answer is all this needs; the stream is dropped rather than drained.
    context->TryCancel();
    stream->Finish();
    return response;
  }
  if (absl::Status s = FromGrpc(stream->Finish(), endpoint_); !s.ok()) return s;
  return absl::UnavailableError(endpoint_ + " closed the keep-alive stream");
}

}  // namespace raftkv::cli
