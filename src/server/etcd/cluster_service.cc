#include "server/etcd/cluster_service.h"

namespace raftkv::server::etcd {

ClusterService::ClusterService(Backend* backend) : backend_(backend) {}

::grpc::Status ClusterService::MemberList(::grpc::ServerContext*,
                                          const etcdserverpb::MemberListRequest*,
                                          etcdserverpb::MemberListResponse* response) {
  const NodeInfo info = backend_->Info();
  // etcd leaves header.revision at 0 for membership answers.
  etcdserverpb::ResponseHeader* header = response->mutable_header();
  header->set_cluster_id(info.cluster_id);
  header->set_member_id(info.member_id);
  header->set_raft_term(info.raft_term);
  for (const MemberInfo& member : info.members) {
    etcdserverpb::Member* out = response->add_members();
    out->set_id(member.id);
    out->set_name(member.name);
    for (const std::string& url : member.peer_urls) out->add_peerurls(url);
    for (const std::string& url : member.client_urls) out->add_clienturls(url);
    out->set_islearner(member.is_learner);
  }
  return ::grpc::Status::OK;
}

}  // namespace raftkv::server::etcd
