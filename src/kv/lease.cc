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
  if (engine_->LeaseTtl(request.id())) return LeaseExistsError();
  // The proposer raised the TTL to the cluster's minimum already; a lease that never lives is
  // still refused a zero or negative TTL here, the same way on every member.
  const int64_t ttl = std::max<int64_t>(request.ttl(), 1);
  engine_->PutLease(request.id(), ttl);
  meta_.size_bytes += kLeaseBytes;
  response->set_id(request.id());
  response->set_ttl(ttl);
  response->mutable_header()->set_revision(meta_.revision);
  return absl::OkStatus();
}

absl::Status Store::RevokeLease(WriteBatch& batch, const etcdserverpb::LeaseRevokeRequest& request,
                                etcdserverpb::LeaseRevokeResponse* response) {
  if (!engine_->LeaseTtl(request.id())) return LeaseNotFoundError();
  // The keys come in key order, so every member deletes in the same order and all deletions
  // share the batch's one revision. Deleting detaches each key from the lease.
  for (const std::string& key : engine_->LeaseKeys(request.id())) {
    etcdserverpb::DeleteRangeRequest del;
    del.set_key(key);
    etcdserverpb::DeleteRangeResponse ignored;
    DeleteRange(batch, del, &ignored);
  }
  RAFTKV_KV_INVARIANT(engine_->LeaseKeys(request.id()).empty());
  engine_->DeleteLease(request.id());
  meta_.size_bytes -= kLeaseBytes;
  response->mutable_header()->set_revision(batch.visible());
  return absl::OkStatus();
}

void Store::MoveKeyLease(std::string_view key, int64_t from, int64_t to) {
  if (from == to) return;
  if (from != 0) {
    // A key only ever attaches to a granted lease, and revoking a lease deletes its keys.
    RAFTKV_KV_INVARIANT(engine_->LeaseTtl(from).has_value());
    engine_->DetachKey(from, key);
  }
  if (to != 0) {
    RAFTKV_KV_INVARIANT(engine_->LeaseTtl(to).has_value());  // CheckPut refused unknown leases
    engine_->AttachKey(to, key);
  }
}

std::optional<LeaseState> Store::FindLease(int64_t id, bool with_keys) const {
  const std::optional<int64_t> ttl = engine_->LeaseTtl(id);
  if (!ttl) return std::nullopt;
  LeaseState state{.id = id, .ttl = *ttl, .keys = {}};
  if (with_keys) state.keys = engine_->LeaseKeys(id);
  return state;
}

std::vector<LeaseState> Store::Leases() const {
  std::vector<LeaseState> leases;
  for (const auto& [id, ttl] : engine_->Leases())
    leases.push_back({.id = id, .ttl = ttl, .keys = {}});
  return leases;
}

}  // namespace raftkv::kv
