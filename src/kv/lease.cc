// The store's leases: grant, revoke (deleting the attached keys at one revision), the key
// attachments that puts and deletes keep up to date, and the reads the Lease service needs.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "kv/errors.h"
#include "kv/invariant.h"
#include "kv/store.h"

namespace raftkv::kv {

absl::Status Store::GrantLease(const etcdserverpb::LeaseGrantRequest& request,
                               etcdserverpb::LeaseGrantResponse* response) {
  // The proposing member picks the id; 0 is etcd's "no lease" and can never be granted.
  if (request.id() == 0) return LeaseNotFoundError();
  if (request.ttl() > kMaxLeaseTtlSeconds) return LeaseTtlTooLargeError();
  if (leases_.contains(request.id())) return LeaseExistsError();
  // The proposer raised the TTL to the cluster's minimum already; a lease that never lives is
  // still refused a zero or negative TTL here, the same way on every member.
  const int64_t ttl = std::max<int64_t>(request.ttl(), 1);
  leases_.emplace(request.id(), Lease{.ttl = ttl, .keys = {}});
  size_bytes_ += kLeaseBytes;
  response->set_id(request.id());
  response->set_ttl(ttl);
  response->mutable_header()->set_revision(revision_);
  return absl::OkStatus();
}

absl::Status Store::RevokeLease(WriteBatch& batch, const etcdserverpb::LeaseRevokeRequest& request,
                                etcdserverpb::LeaseRevokeResponse* response) {
  auto it = leases_.find(request.id());
  if (it == leases_.end()) return LeaseNotFoundError();
  // Deleting detaches each key from the lease, so walk a copy. The set is ordered, so every
  // member deletes in the same order and all deletions share the batch's one revision.
  const std::vector<std::string> keys(it->second.keys.begin(), it->second.keys.end());
  for (const std::string& key : keys) {
    etcdserverpb::DeleteRangeRequest del;
    del.set_key(key);
    etcdserverpb::DeleteRangeResponse ignored;
    DeleteRange(batch, del, &ignored);
  }
  RAFTKV_KV_INVARIANT(leases_.at(request.id()).keys.empty());
  leases_.erase(request.id());
  size_bytes_ -= kLeaseBytes;
  response->mutable_header()->set_revision(batch.visible());
  return absl::OkStatus();
}

void Store::MoveKeyLease(const std::string& key, int64_t from, int64_t to) {
  if (from == to) return;
  if (from != 0) {
    auto it = leases_.find(from);
    // A key only ever attaches to a granted lease, and revoking a lease deletes its keys.
    RAFTKV_KV_INVARIANT(it != leases_.end());
    it->second.keys.erase(key);
  }
  if (to != 0) {
    auto it = leases_.find(to);
    RAFTKV_KV_INVARIANT(it != leases_.end());  // CheckPut refused unknown leases
    it->second.keys.insert(key);
  }
}

std::optional<LeaseState> Store::FindLease(int64_t id, bool with_keys) const {
  auto it = leases_.find(id);
  if (it == leases_.end()) return std::nullopt;
  LeaseState state{.id = id, .ttl = it->second.ttl, .keys = {}};
  if (with_keys) state.keys.assign(it->second.keys.begin(), it->second.keys.end());
  return state;
}

std::vector<LeaseState> Store::Leases() const {
  std::vector<LeaseState> leases;
  leases.reserve(leases_.size());
  for (const auto& [id, lease] : leases_) leases.push_back({.id = id, .ttl = lease.ttl, .keys = {}});
  return leases;
}

}  // namespace raftkv::kv
