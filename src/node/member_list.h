// Who is in the cluster, as the applied log says: every member's id, name, peer and client URLs
// and learner flag, and the ids removed so far (their traffic is refused and never comes back).
//
// The list changes only by applying committed entries (membership changes, member attributes)
// or by restoring a snapshot, so every member that applied the same prefix of the log holds the
// same list. Every change is idempotent, because a restart replays the entries after the last
// snapshot.
//
// Thread-safety: thread-compatible (a plain value).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "raftkv/peerpb/peer.pb.h"

namespace raftkv::node {

class MemberList {
 public:
  MemberList() = default;
  explicit MemberList(const std::vector<peerpb::Member>& members);

  std::vector<peerpb::Member> List() const;
  bool Contains(uint64_t id) const { return members_.contains(id); }
  std::optional<peerpb::Member> Find(uint64_t id) const;
  // The member, if any, that already uses one of `peer_urls`.
  std::optional<peerpb::Member> FindByPeerUrl(const std::vector<std::string>& peer_urls) const;
  bool WasRemoved(uint64_t id) const { return removed_.contains(id); }
  std::vector<uint64_t> RemovedIds() const { return {removed_.begin(), removed_.end()}; }
  size_t size() const { return members_.size(); }

  // Add inserts the member or, for one already known (a replayed entry, a learner's
  // promotion), takes its peer URLs and learner flag and keeps the name and client URLs it
  // announced. Remove forgets it for good.
  void Add(const peerpb::Member& member);
  void Remove(uint64_t id);
  // A MemberAttributes entry: the member's name and client URLs. Ignores unknown ids.
  void UpdateAttributes(const peerpb::Member& attributes);
  // Replaces everything with what a snapshot carried.
  void Restore(const std::vector<peerpb::Member>& members,
               const std::vector<uint64_t>& removed_ids);

  bool operator==(const MemberList&) const;

 private:
  std::map<uint64_t, peerpb::Member> members_;
  std::set<uint64_t> removed_;
};

}  // namespace raftkv::node
