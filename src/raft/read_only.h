// ReadOnly: the leader's queue of ReadIndex requests awaiting confirmation of leadership
// (thesis §6.4).
//
// Each request records the commit index at the time it arrived; it is answered once a quorum
// acknowledged a heartbeat that carried its context (or a later one's: heartbeats are
// answered in order, so a quorum for a later request confirms every earlier one too).
// Thread-compatible.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "raft/quorum/quorum.h"
#include "raftkv/raft/config.h"
#include "raftkv/raftpb/raft.pb.h"

namespace raftkv::raft {

struct ReadIndexStatus {
  raftpb::Message req;
  uint64_t index = 0;
  // Voters that acknowledged a heartbeat carrying this request's context.
  quorum::VoteMap acks;
};

class ReadOnly {
 public:
  explicit ReadOnly(ReadOnlyOption option) : option_(option) {}

  ReadOnlyOption option() const { return option_; }

  // Queues a request (context = its first entry's data) read at commit index `index`.
  // A duplicate context is ignored.
  void AddRequest(uint64_t index, const raftpb::Message& m);

  // Records that `id` acknowledged the heartbeat with `context`. Returns the acks so far, or
  // null if no request has that context.
  const quorum::VoteMap* RecvAck(uint64_t id, const std::string& context);

  // Dequeues and returns the request with `context` and every request queued before it.
  std::vector<ReadIndexStatus> Advance(const std::string& context);

  // Context of the newest pending request, or empty.
  std::string LastPendingRequestCtx() const;

  size_t PendingCount() const { return queue_.size(); }

 private:
  ReadOnlyOption option_;
  std::map<std::string, ReadIndexStatus> pending_;
  std::deque<std::string> queue_;
};

}  // namespace raftkv::raft
