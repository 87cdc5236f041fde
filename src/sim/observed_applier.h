// An Applier decorator that shows the safety checker every entry the node applies, with a
// digest of the state after it, and every snapshot it restores; it wraps the server's own
// node::StoreApplier (the real kv::Store and member list).
//
// One per incarnation of a node, created empty like the process's state; the restart check
// (SafetyChecker::ObserveRestart) is the host's, once the driver restored the log's snapshot.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "node/applier.h"
#include "sim/node_observer.h"

namespace raftkv::sim {

class ObservedApplier final : public node::Applier {
 public:
  // Called after each client request is applied (scenarios follow particular values).
  using OnRequest = std::function<void(uint64_t index, const kvpb::Request& request)>;

  // Over `inner`, the node's state: in memory, or reopened from its engine on disk.
  ObservedApplier(std::unique_ptr<node::StoreApplier> inner, NodeObserver* observer,
                  OnRequest on_request);

  // From now on restores are snapshots received from the leader, not the restart's own.
  void set_started() { started_ = true; }
  // The entry applied last by this incarnation (null before the first): a write completed
  // from inside ApplyRequest was applied as this entry.
  const raftpb::Entry* last_applied_entry() const {
    return has_last_applied_ ? &last_applied_ : nullptr;
  }
  // Depends only on the replicated state, so that a replica that restored a snapshot and one
  // that applied the entries agree.
  uint64_t Digest() const;

  absl::StatusOr<kvpb::Response> ApplyRequest(uint64_t index,
                                              const kvpb::Request& request) override;
  void ApplyConfChange(uint64_t index, const raftpb::ConfChange& change) override;
  void ApplyMemberAttributes(uint64_t index, const peerpb::Member& attributes) override;
  void MarkApplied(uint64_t index) override;
  absl::StatusOr<std::string> Snapshot() const override { return inner_->Snapshot(); }
  absl::Status Restore(uint64_t index, std::string_view data) override;
  absl::Status Sync() override { return inner_->Sync(); }
  bool ContinueCompaction() override { return inner_->ContinueCompaction(); }
  uint64_t applied_index() const override { return inner_->applied_index(); }
  const node::MemberList& members() const override { return inner_->members(); }
  const kv::Store& store() const override { return inner_->store(); }

 private:
  void Applied(uint64_t index);

  std::unique_ptr<node::StoreApplier> inner_;
  NodeObserver* const observer_;
  OnRequest on_request_;
  bool started_ = false;
  bool has_last_applied_ = false;
  raftpb::Entry last_applied_;
};

}  // namespace raftkv::sim
