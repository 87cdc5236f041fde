// The store's write side: applying replicated requests (put, delete, compaction) and the applied
// index. Transactions live in txn.cc, leases in lease.cc, alarms in alarm.cc.
#include <algorithm>
#include <utility>

#include "kv/errors.h"
#include "kv/invariant.h"
#include "kv/quota.h"
#include "kv/store.h"
#include "kv/validate.h"

namespace raftkv::kv {
absl::StatusOr<kvpb::Response> Store::Apply(const kvpb::Request& request, uint64_t index) {
  MarkApplied(index);
  if (auto status = ValidateRequest(request, kNoTxnOpsLimit); !status.ok()) return status;
  // etcd's capped applier: under NOSPACE nothing that needs space applies, on any member.
  if (space_exceeded() && QuotaCost(request) > 0) return NoSpaceError();

  kvpb::Response response;
  response.set_id(request.id());
  WriteBatch batch{.revision = revision_ + 1};
  switch (request.op_case()) {
    case kvpb::Request::kPut:
      if (auto status = CheckPut(request.put()); !status.ok()) return status;
      Put(batch, request.put(), response.mutable_put());
      break;
    case kvpb::Request::kDeleteRange:
      DeleteRange(batch, request.delete_range(), response.mutable_delete_range());
      break;
    case kvpb::Request::kTxn: {
      // Decide every branch first, then check the chosen path, then write: a rejected txn must
      // leave no trace, and the store has no rollback.
      std::vector<bool> path;
      ChoosePath(request.txn(), &path);
      size_t step = 0;
      if (auto status = CheckPath(request.txn(), path, &step); !status.ok()) return status;
      step = 0;
      ApplyTxn(batch, request.txn(), path, &step, response.mutable_txn());
      RAFTKV_KV_INVARIANT(step == path.size());
      break;
    }
    case kvpb::Request::kCompaction:
      if (auto status = Compact(request.compaction().revision()); !status.ok()) return status;
      response.mutable_compaction()->mutable_header()->set_revision(revision_);
      break;
    case kvpb::Request::kLeaseGrant:
      if (auto status = GrantLease(request.lease_grant(), response.mutable_lease_grant());
          !status.ok()) {
        return status;
      }
      break;
    case kvpb::Request::kLeaseRevoke:
      if (auto status =
              RevokeLease(batch, request.lease_revoke(), response.mutable_lease_revoke());
          !status.ok()) {
        return status;
      }
      break;
    case kvpb::Request::kAlarm:
      if (auto status = ApplyAlarm(request.alarm(), response.mutable_alarm()); !status.ok()) {
        return status;
      }
      break;
    case kvpb::Request::OP_NOT_SET:
      RAFTKV_KV_INVARIANT(false);  // ValidateRequest rejects it
  }
  if (batch.wrote) revision_ = batch.revision;
  return response;
}

void Store::MarkApplied(uint64_t index) {
  RAFTKV_KV_INVARIANT(index > applied_index_);
  applied_index_ = index;
}

absl::Status Store::CheckPut(const etcdserverpb::PutRequest& request) const {
  if (request.lease() != 0 && !leases_.contains(request.lease())) return LeaseNotFoundError();
  if (request.ignore_value() || request.ignore_lease()) {
    auto it = keys_.find(request.key());
    if (it == keys_.end() || it->second.back().tombstone) return KeyNotFoundError();
  }
  return absl::OkStatus();
}

void Store::Append(History& history, Version version) {
  // Validation guarantees one write per key per request, so revisions strictly increase.
  RAFTKV_KV_INVARIANT(history.empty() || history.back().mod_revision < version.mod_revision);
  history.push_back(std::move(version));
}

void Store::Put(WriteBatch& batch, const etcdserverpb::PutRequest& request,
                etcdserverpb::PutResponse* response) {
  auto [it, inserted] = keys_.try_emplace(request.key());
  History& history = it->second;
  const bool existed = !inserted && !history.back().tombstone;

  Version next;
  next.mod_revision = batch.revision;
  if (existed) {
    const Version& prev = history.back();
    if (request.prev_kv()) {
      mvccpb::KeyValue* kv = response->mutable_prev_kv();
      kv->set_key(request.key());
      kv->set_create_revision(prev.create_revision);
      kv->set_mod_revision(prev.mod_revision);
      kv->set_version(prev.version);
      kv->set_value(prev.value);
      kv->set_lease(prev.lease);
    }
    next.create_revision = prev.create_revision;
    next.version = prev.version + 1;
    next.lease = request.ignore_lease() ? prev.lease : request.lease();
    next.value = request.ignore_value() ? prev.value : request.value();
  } else {
    next.create_revision = batch.revision;
    next.version = 1;
    next.lease = request.lease();
    next.value = request.value();
    ++live_keys_;
  }
  size_bytes_ += VersionBytes(request.key().size(), next.value.size());
  MoveKeyLease(it->first, existed ? history.back().lease : 0, next.lease);
  Append(history, std::move(next));
  batch.wrote = true;
  response->mutable_header()->set_revision(batch.visible());
}

void Store::DeleteRange(WriteBatch& batch, const etcdserverpb::DeleteRangeRequest& request,
                        etcdserverpb::DeleteRangeResponse* response) {
  int64_t deleted = 0;
  auto [first, last] = MutableBounds(request.key(), request.range_end());
  for (auto it = first; it != last; ++it) {
    History& history = it->second;
    const Version& prev = history.back();
    if (prev.tombstone) continue;
    if (request.prev_kv()) {
      mvccpb::KeyValue* kv = response->add_prev_kvs();
      kv->set_key(it->first);
      kv->set_create_revision(prev.create_revision);
      kv->set_mod_revision(prev.mod_revision);
      kv->set_version(prev.version);
      kv->set_value(prev.value);
      kv->set_lease(prev.lease);
    }
    MoveKeyLease(it->first, prev.lease, 0);
    Version tombstone;
    tombstone.mod_revision = batch.revision;
    tombstone.tombstone = true;
    size_bytes_ += VersionBytes(it->first.size(), 0);
    Append(history, std::move(tombstone));
    ++deleted;
    --live_keys_;
  }
  // Deleting nothing is not a write: it leaves the revision alone (etcd §6).
  if (deleted > 0) batch.wrote = true;
  response->set_deleted(deleted);
  response->mutable_header()->set_revision(batch.visible());
}

absl::Status Store::Compact(int64_t revision) {
  if (revision <= compact_revision_) return CompactedError();
  if (revision > revision_) return FutureRevisionError();
  compact_revision_ = revision;
  for (auto it = keys_.begin(); it != keys_.end();) {
    History& history = it->second;
    // Reads at `revision` or later need the newest version at or below it, and everything above.
    auto above = std::upper_bound(
        history.begin(), history.end(), revision,
        [](int64_t rev, const Version& version) { return rev < version.mod_revision; });
    if (above != history.begin()) {
      auto keep = std::prev(above);
      // A tombstone only says "absent", which an empty history says too.
      auto erase_end = keep->tombstone ? above : keep;
      for (auto v = history.begin(); v != erase_end; ++v) {
        size_bytes_ -= VersionBytes(it->first.size(), v->value.size());
      }
      history.erase(history.begin(), erase_end);
    }
    if (history.empty()) {
      it = keys_.erase(it);
    } else {
      RAFTKV_KV_INVARIANT(!history.front().tombstone);
      ++it;
    }
  }
  return absl::OkStatus();
}

}  // namespace raftkv::kv
