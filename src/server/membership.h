// Who is in the cluster: member and cluster ids, and what every member is called and where it
// listens.
//
// Ids are derived the way etcd derives them, so that the same flags always give the same ids and
// two clusters started with different tokens never accept each other's traffic: a member id is
// a hash of its sorted peer URLs and the cluster token; the cluster id is a hash of the sorted
// member ids. (etcd uses SHA-1; raftkv uses a 64-bit FNV-1a with a final mix, since the ids only
// need to be stable and well spread, not cryptographic.)
//
// The founding membership is written to <data-dir>/member/cluster when a data directory is
// created; a restart reads it back and ignores the --initial-cluster flags, as etcd does. From
// then on the raft log is the source of truth: the founders are the first entries of the log
// (one membership change each), later changes are entries too, and snapshots carry the member
// list. Client URLs are learnt at run time: each member replicates a MemberAttributes entry
// when it starts.
//
// Thread-safety: Membership is thread-safe; the free functions are pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "node/member_list.h"
#include "raftkv/peerpb/peer.pb.h"

namespace raftkv::server {

uint64_t ComputeMemberId(const std::vector<std::string>& peer_urls, const std::string& token);
uint64_t ComputeClusterId(const std::vector<uint64_t>& member_ids, const std::string& token);

// Reads and writes the founding membership file (a peerpb::ClusterFile), durably: it is written
// to a temporary name, fsynced and renamed, and the directory is fsynced.
absl::StatusOr<peerpb::ClusterFile> ReadClusterFile(const std::string& path);
absl::Status WriteClusterFile(const std::string& path, const peerpb::ClusterFile& file);

// The applied member list, shared by the node thread (which replaces it whenever the applied
// membership changes) and the threads that read it: the peer transport (who may talk to this
// member, who was removed) and the client API (the member list, membership checks).
class Membership {
 public:
  // Starts with the founding members: a joining member must reach them before its log says who
  // is in the cluster.
  explicit Membership(const peerpb::ClusterFile& founding);

  uint64_t cluster_id() const { return cluster_id_; }
  uint64_t local_id() const { return local_id_; }

  std::vector<peerpb::Member> List() const;
  bool Contains(uint64_t id) const;
  std::optional<peerpb::Member> Find(uint64_t id) const;
  // The member, if any, that already uses one of `peer_urls`.
  std::optional<peerpb::Member> FindByPeerUrl(const std::vector<std::string>& peer_urls) const;
  // Whether `id` was a member and has been removed.
  bool WasRemoved(uint64_t id) const;
  std::vector<uint64_t> RemovedIds() const;
  // A copy of the whole list, for checks that look at several members at once.
  node::MemberList Get() const;

  // Replaces the list with the applied one.
  void Set(const node::MemberList& members);

 private:
  const uint64_t cluster_id_;
  const uint64_t local_id_;
  mutable absl::Mutex mu_;
  node::MemberList members_ ABSL_GUARDED_BY(mu_);
};

}  // namespace raftkv::server
