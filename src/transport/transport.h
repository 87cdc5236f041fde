// The transport between raft peers: what the node driver needs from the network.
//
// The node hands batches of raft messages to a Transport, which sends them to their `to`
// member without blocking the caller; messages that arrive from peers, and what the transport
// learns about delivery (a peer is unreachable, a snapshot was or was not installed), come back
// through a Receiver. Delivery is best effort: raft retransmits whatever is lost (§5.3).
//
// Thread-safety: Transport methods may be called from any thread. Receiver callbacks are
// invoked from transport threads, concurrently; they must be thread-safe and must not block.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "raftkv/raftpb/raft.pb.h"

namespace raftkv::transport {

class Receiver {
 public:
  virtual ~Receiver() = default;
  // Messages from one peer, in the order that peer sent them.
  virtual void Receive(std::vector<raftpb::Message> messages) = 0;
  // A message to `peer_id` could not be delivered (the leader then probes it, thesis §10.2).
  virtual void ReportUnreachable(uint64_t peer_id) = 0;
  // Outcome of a MsgSnapshot sent to `peer_id`.
  virtual void ReportSnapshot(uint64_t peer_id, bool delivered) = 0;
  // `peer_id` refused this member's traffic because the cluster removed this member (a member
  // cut off while its removal committed never applies it itself). Ignored by default.
  virtual void ReportRemovedFromCluster(uint64_t peer_id) { (void)peer_id; }
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Queues messages for their `to` peers. MsgSnapshot is streamed separately, in chunks.
  // Messages to unknown peers are dropped and reported unreachable.
  virtual void Send(std::vector<raftpb::Message> messages) = 0;
  // Makes `id` a known member reachable at `address` (host:port), accepting its traffic too.
  virtual void AddPeer(uint64_t id, const std::string& address) = 0;
  virtual void RemovePeer(uint64_t id) = 0;
  // Stops all sender threads. Idempotent. Sends after Stop are dropped.
  virtual void Stop() = 0;
};

}  // namespace raftkv::transport
