#include "node/force_new_cluster.h"

#include <limits>
#include <set>

#include "absl/strings/str_cat.h"
#include "raftkv/peerpb/peer.pb.h"

namespace raftkv::node {
namespace {

void Follow(raftpb::ConfChangeType type, uint64_t id, std::set<uint64_t>& members) {
  if (type == raftpb::CONF_CHANGE_REMOVE_NODE) {
    members.erase(id);
  } else {
    members.insert(id);  // add, add as learner, or (for V2) promote: a member either way
  }
}

}  // namespace

absl::StatusOr<ForcedCluster> ForceNewCluster(storage::DurableStorage& storage, uint64_t self) {
  raftpb::HardState hard_state;
  raftpb::ConfState conf_state;
  if (absl::Status s = storage.InitialState(&hard_state, &conf_state); !s.ok()) return s;

  // The configuration as of the commit index: the snapshot's, then every committed change.
  std::set<uint64_t> members;
  for (uint64_t id : conf_state.voters()) members.insert(id);
  for (uint64_t id : conf_state.learners()) members.insert(id);
  for (uint64_t id : conf_state.voters_outgoing()) members.insert(id);
  for (uint64_t id : conf_state.learners_next()) members.insert(id);
  const uint64_t commit = hard_state.commit();
  if (storage.FirstIndex() <= commit) {
    absl::StatusOr<std::vector<raftpb::Entry>> committed = storage.Entries(
        storage.FirstIndex(), commit + 1, std::numeric_limits<uint64_t>::max());
    if (!committed.ok()) return committed.status();
    for (const raftpb::Entry& entry : *committed) {
      if (entry.entry_type() == raftpb::ENTRY_CONF_CHANGE) {
        raftpb::ConfChange change;
        if (change.ParseFromString(entry.data())) {
          Follow(change.change_type(), change.node_id(), members);
        }
      } else if (entry.entry_type() == raftpb::ENTRY_CONF_CHANGE_V2) {
        raftpb::ConfChangeV2 change;
        if (!change.ParseFromString(entry.data())) continue;
        for (const raftpb::ConfChangeSingle& single : change.changes()) {
          Follow(single.change_type(), single.node_id(), members);
        }
      }
    }
  }
  if (!members.contains(self)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--force-new-cluster: member ", absl::Hex(self),
        " is not in the configuration its log holds, so it cannot carry the cluster alone"));
  }

  ForcedCluster forced;
  forced.dropped_uncommitted = storage.LastIndex() - commit;
  std::vector<raftpb::Entry> removals;
  for (uint64_t id : members) {
    if (id == self) continue;
    raftpb::ConfChange change;
    change.set_change_type(raftpb::CONF_CHANGE_REMOVE_NODE);
    change.set_node_id(id);
    peerpb::Member member;
    member.set_id(id);
    change.set_context(member.SerializeAsString());  // the member list removes by this
    raftpb::Entry& entry = removals.emplace_back();
    entry.set_entry_type(raftpb::ENTRY_CONF_CHANGE);
    entry.set_term(hard_state.term());
    entry.set_index(commit + removals.size());
    entry.set_data(change.SerializeAsString());
    forced.removed.push_back(id);
  }
  if (removals.empty() && forced.dropped_uncommitted == 0) return forced;
  if (removals.empty()) {
    // Nothing to remove, but the uncommitted tail still goes: rewrite the last committed entry
    // over itself, which truncates everything after it.
    if (commit < storage.FirstIndex()) {
      return absl::FailedPreconditionError(
          "--force-new-cluster: the uncommitted tail starts right after a snapshot; restart "
          "without the flag");
    }
    absl::StatusOr<std::vector<raftpb::Entry>> last =
        storage.Entries(commit, commit + 1, std::numeric_limits<uint64_t>::max());
    if (!last.ok()) return last.status();
    removals = *last;
  }
  // The new entries are committed at once: nobody else is left to acknowledge them.
  hard_state.set_commit(removals.back().index());
  if (absl::Status s = storage.Save(hard_state, removals, /*must_sync=*/true); !s.ok()) return s;
  return forced;
}

}  // namespace raftkv::node
