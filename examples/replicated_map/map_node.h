// One member of the replicated map: a RawNode, the log it reads (MemoryStorage) and the map
// its committed entries build.
//
// HandleReadies is the Ready loop every embedder of the core writes (docs/embedding.md): send
// what may go before persisting, persist, send what promises durable state, apply, Advance.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "raftkv/raft/memory_storage.h"
#include "raftkv/raft/raw_node.h"
#include "raftkv/raftpb/raft.pb.h"

namespace replicated_map {

class MapNode {
 public:
  // Member `id` of a brand-new cluster whose founding voters are `members`.
  static absl::StatusOr<std::unique_ptr<MapNode>> Found(uint64_t id,
                                                       const std::vector<uint64_t>& members);

  uint64_t id() const { return id_; }
  raftkv::raft::RawNode& raw() { return *raw_; }
  bool IsLeader() const { return leader_ == id_; }
  uint64_t leader() const { return leader_; }
  uint64_t applied() const { return applied_; }
  const std::map<std::string, std::string>& map() const { return map_; }
  // Index of the last snapshot this member installed from its leader (0: none).
  uint64_t installed_snapshot() const { return installed_snapshot_; }

  // Handles every Ready the node has. Messages for peers are appended to `outbox`; the caller
  // delivers them (here: in-process; in a real system: over the network).
  absl::Status HandleReadies(std::vector<raftkv::raftpb::Message>& outbox);

  // The read index the core answered for a ReadIndex(request_ctx), once it has.
  std::optional<uint64_t> ReadIndexFor(const std::string& request_ctx) const;

  // Takes a snapshot of the map at the applied index and drops the log before it. A follower
  // that later needs those entries gets this snapshot instead.
  absl::Status SnapshotAndCompact();

 private:
  MapNode(uint64_t id, std::unique_ptr<raftkv::raft::MemoryStorage> storage,
          raftkv::raftpb::ConfState conf_state);
  absl::Status Persist(const raftkv::raft::Ready& ready);
  absl::Status Apply(const raftkv::raft::Ready& ready);
  absl::Status ApplyEntry(const raftkv::raftpb::Entry& entry);

  uint64_t id_;
  // Declared before raw_: the RawNode reads it and must be destroyed first.
  std::unique_ptr<raftkv::raft::MemoryStorage> storage_;
  std::unique_ptr<raftkv::raft::RawNode> raw_;
  uint64_t leader_ = 0;
  uint64_t applied_ = 0;
  uint64_t installed_snapshot_ = 0;
  // The configuration as of applied_, which a snapshot taken there must carry.
  raftkv::raftpb::ConfState conf_state_;
  std::map<std::string, std::string> map_;
  std::map<std::string, uint64_t> read_indexes_;
};

}  // namespace replicated_map
