// The order in which an application handles a Ready, written once.
//
// Every embedder of RawNode must do the same four things with each Ready, in the same order
// (thesis §10.2.1): send the messages that do not wait for persistence (the leader's appends
// leave while it writes the same entries), persist the snapshot, entries and hard state, send
// the messages that promise durable state (votes, append responses), apply, and Advance.
// HandleReadies is that loop; an application supplies what each step means for it. The node
// driver (src/node) and the core's test cluster both run it, so the order is kept in one place.
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "raftkv/raft/raw_node.h"
#include "raftkv/raft/ready.h"
#include "raftkv/raftpb/raft.pb.h"

namespace raftkv::raft {

class ReadyHandler {
 public:
  virtual ~ReadyHandler() = default;
  // The Ready's soft and hard state, before anything of it is sent or persisted.
  virtual void ObserveState(const Ready& ready) {}
  // Messages to send: first `messages`, then, after Persist, `persisted_messages`.
  virtual void Send(std::vector<raftpb::Message> messages) = 0;
  // Persists the snapshot, then the entries, then the hard state; durably when must_sync.
  virtual absl::Status Persist(const Ready& ready) = 0;
  // Applies the snapshot and the committed entries, and takes the read states.
  virtual absl::Status Apply(const Ready& ready) = 0;
  // After Advance: what the application does between two Readies (snapshots, new requests).
  virtual void AfterAdvance() {}
};

// Handles every Ready `node` has, in order, until it has none. An error from Persist or Apply
// stops the loop before that Ready's `persisted_messages` (Persist) or its Advance (both) and
// is returned: the application must stop driving the node. So is the node's own
// RawNode::Error (storage could not return the committed entries to apply), found before
// anything of that Ready is sent, persisted or applied.
absl::Status HandleReadies(RawNode& node, ReadyHandler& handler);

}  // namespace raftkv::raft
