#include "server/peer_network.h"

#include <utility>

#include "server/url.h"

namespace raftkv::server {

absl::Status ConnectPeer(const peerpb::Member& member, transport::Transport& transport) {
  if (member.peer_urls().empty()) return absl::OkStatus();
  absl::StatusOr<HostPort> address = ParseUrl(member.peer_urls(0));
  if (!address.ok()) return address.status();
  transport.AddPeer(member.id(), address->ToString());
  return absl::OkStatus();
}

PeerNetwork::PeerNetwork(transport::Transport* transport, Membership* membership,
                         spdlog::logger* log)
    : transport_(transport), membership_(membership), log_(*log) {}

absl::Status PeerNetwork::ConnectKnownMembers(const std::vector<peerpb::Member>& members) {
  for (const peerpb::Member& m : members) {
    if (m.id() == membership_->local_id() || m.peer_urls().empty()) continue;
    if (absl::Status s = ConnectPeer(m, *transport_); !s.ok()) return s;
    connected_[m.id()] = m.peer_urls(0);
  }
  return absl::OkStatus();
}

void PeerNetwork::Send(std::vector<raftpb::Message> messages) {
  transport_->Send(std::move(messages));
}

void PeerNetwork::FollowMembers(const node::MemberList& members) {
  std::set<uint64_t> listed;
  for (const peerpb::Member& m : members.List()) {
    listed.insert(m.id());
    if (m.id() == membership_->local_id() || m.peer_urls().empty()) continue;
    auto it = connected_.find(m.id());
    if (it == connected_.end() || it->second != m.peer_urls(0)) Connect(m);
  }
  std::vector<uint64_t> gone;
  for (const auto& [id, url] : connected_) {
    if (members.WasRemoved(id) || (followed_.contains(id) && !listed.contains(id))) {
      gone.push_back(id);
    }
  }
  for (uint64_t id : gone) Disconnect(id);
  followed_ = std::move(listed);
  membership_->Set(members);
}

void PeerNetwork::Connect(const peerpb::Member& member) {
  if (absl::Status s = ConnectPeer(member, *transport_); !s.ok()) {
    log_.error("cannot reach member {:x}: {}", member.id(), std::string(s.message()));
    return;
  }
  connected_[member.id()] = member.peer_urls(0);
}

void PeerNetwork::Disconnect(uint64_t id) {
  transport_->RemovePeer(id);
  connected_.erase(id);
}

}  // namespace raftkv::server
