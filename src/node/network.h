// What the node driver needs from the network between members.
//
// The server implements it over the gRPC transport, the simulator over its simulated network.
// Delivery is best effort: raft retransmits whatever is lost (§5.3).
#pragma once

#include <vector>

#include "node/member_list.h"
#include "raftkv/raftpb/raft.pb.h"

namespace raftkv::node {

class Network {
 public:
  virtual ~Network() = default;
  // Queues `messages` for their `to` members without blocking.
  virtual void Send(std::vector<raftpb::Message> messages) = 0;
  // The applied membership changed (a change, member attributes, or a snapshot installed): the
  // network now reaches exactly these members (every one but this member) and refuses traffic
  // from the removed ones.
  virtual void FollowMembers(const MemberList& members) = 0;
};

}  // namespace raftkv::node
