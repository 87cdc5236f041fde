// The node driver's network over the peer transport.
//
// Send hands the driver's messages to the transport. FollowMembers keeps the transport's peers
// in step with the applied member list: a member added (or seen in an installed snapshot) or
// moved to another peer URL is connected, a removed one disconnected. It also publishes the
// list to Membership, which the transport and the client API read.
//
// Thread-safety: Send and FollowMembers from the node thread only (as the driver calls them);
// ConnectKnownMembers before the node thread starts.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "node/network.h"
#include "server/membership.h"
#include "spdlog/spdlog.h"
#include "transport/transport.h"

namespace raftkv::server {

// Makes `member` a peer of `transport` at its first peer URL (nothing if it has none).
// InvalidArgument for a peer URL that does not parse.
absl::Status ConnectPeer(const peerpb::Member& member, transport::Transport& transport);

class PeerNetwork final : public node::Network {
 public:
  // `transport`, `membership` and `log` must outlive the network.
  PeerNetwork(transport::Transport* transport, Membership* membership, spdlog::logger* log);

  // Connects the members known before the log says who is in the cluster (the membership
  // file's): a member joining a running cluster must answer the leader before it has applied
  // anything. InvalidArgument for a member whose peer URL does not parse.
  absl::Status ConnectKnownMembers(const std::vector<peerpb::Member>& members);

  void Send(std::vector<raftpb::Message> messages) override;
  void FollowMembers(const node::MemberList& members) override;

 private:
  void Connect(const peerpb::Member& member);
  void Disconnect(uint64_t id);

  transport::Transport* const transport_;
  Membership* const membership_;
  spdlog::logger& log_;
  // The peer URL each connected member was connected at.
  std::map<uint64_t, std::string> connected_;
  // The members of the list last followed: one missing from the next list has left. (A member
  // connected only from the membership file is not dropped just because a replay of the log
  // has not reached its entry yet.)
  std::set<uint64_t> followed_;
};

}  // namespace raftkv::server
