// Members of the replicated map in one process, with the network reduced to a queue.
//
// Each round: every running member ticks once, handles its Readies, and the messages they
// produced are delivered. A member can be cut off (its messages in both directions are lost
// and it does not tick) to make it fall behind.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "absl/status/status.h"
#include "map_node.h"
#include "raftkv/raftpb/raft.pb.h"

namespace replicated_map {

class LocalCluster {
 public:
  // A new cluster whose founding members are 1..size.
  static absl::StatusOr<LocalCluster> Found(int size);

  MapNode& member(uint64_t id) { return *members_.at(id); }
  const std::map<uint64_t, std::unique_ptr<MapNode>>& members() const { return members_; }
  // The member that is leader by its own account, or null.
  MapNode* Leader();

  void CutOff(uint64_t id) { cut_off_.insert(id); }
  void Reconnect(uint64_t id) { cut_off_.erase(id); }

  // Handles every member's Readies and delivers what they sent, until nothing is left to do.
  absl::Status Settle();
  // Runs rounds until `done()` holds; DeadlineExceeded after `max_rounds` rounds.
  absl::Status RunUntil(const std::function<bool()>& done, int max_rounds);

 private:
  absl::Status Round();
  absl::Status HandleAllReadies();
  void Deliver(const raftkv::raftpb::Message& message);

  std::map<uint64_t, std::unique_ptr<MapNode>> members_;
  std::set<uint64_t> cut_off_;
  std::vector<raftkv::raftpb::Message> in_flight_;
};

}  // namespace replicated_map
