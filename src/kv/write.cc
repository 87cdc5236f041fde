// The store's write side: applying replicated requests (put, delete, compaction) and the applied
// index. Transactions live in txn.cc, leases in lease.cc, alarms in alarm.cc.
#include <algorithm>
#include <utility>

#include "kv/errors.h"
#include "kv/invariant.h"
#include "kv/memory_engine.h"
#include "kv/quota.h"
#include "kv/store.h"
#include "kv/validate.h"

namespace raftkv::kv {

Store::Store() : Store(std::make_unique<MemoryEngine>()) {}

Store::Store(std::unique_ptr<Engine> engine)
    : engine_(std::move(engine)),
      meta_(engine_->meta()),
      nospace_alarms_(CountNoSpace(engine_->alarms())) {
  LoadSessions();
}

Store::~Store() = default;

std::unique_ptr<Engine> Store::ReplaceEngine(std::unique_ptr<Engine> engine) {
  std::unique_ptr<Engine> previous = std::exchange(engine_, std::move(engine));
  meta_ = engine_->meta();
  nospace_alarms_ = CountNoSpace(engine_->alarms());
  LoadSessions();
  return previous;
}

Store::EtcdRange::EtcdRange(std::string_view key, std::string_view range_end) {
  if (range_end.empty()) {
    single_end_.reserve(key.size() + 1);
    single_end_.append(key);
    single_end_.push_back('\0');
    range_ = KeyRange{.begin = key, .end = single_end_};
  } else if (range_end == std::string_view("\0", 1)) {
    range_ = KeyRange{.begin = key, .end = {}};
  } else if (range_end <= key) {
    range_ = KeyRange{.begin = key, .end = key};  // empty
  } else {
    range_ = KeyRange{.begin = key, .end = range_end};
  }
}

absl::StatusOr<kvpb::Response> Store::Apply(const kvpb::Request& request, uint64_t index) {
  RAFTKV_KV_INVARIANT(index > meta_.applied_index);
  meta_.applied_index = index;
  absl::StatusOr<kvpb::Response> response =
      request.client_id() != 0 ? ApplyInSession(request) : ApplyRequest(request);
  // One commit per entry, rejected or not: the applied index moves with the entry's writes.
  engine_->Commit(meta_);
  return response;
}

absl::StatusOr<kvpb::Response> Store::ApplyRequest(const kvpb::Request& request) {
  if (auto status = ValidateRequest(request, kNoTxnOpsLimit); !status.ok()) return status;
  // etcd's capped applier: under NOSPACE nothing that needs space applies, on any member.
  if (space_exceeded() && QuotaCost(request) > 0) return NoSpaceError();

  kvpb::Response response;
  response.set_id(request.id());
  WriteBatch batch{.revision = meta_.revision + 1};
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
      // leave no trace, and the store never takes a write back.
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
      response.mutable_compaction()->mutable_header()->set_revision(meta_.revision);
      break;
    case kvpb::Request::kLeaseGrant:
      if (auto status = GrantLease(request.lease_grant(), response.mutable_lease_grant());
          !status.ok()) {
        return status;
      }
      break;
    case kvpb::Request::kLeaseRevoke:
      if (auto status = RevokeLease(batch, request.lease_revoke(), response.mutable_lease_revoke());
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
  if (batch.wrote) meta_.revision = batch.revision;
  return response;
}

void Store::MarkApplied(uint64_t index, std::optional<std::string_view> cluster_state) {
  RAFTKV_KV_INVARIANT(index > meta_.applied_index);
  if (cluster_state.has_value()) engine_->PutClusterState(*cluster_state);
  meta_.applied_index = index;
  engine_->Commit(meta_);
}

absl::Status Store::CheckPut(const etcdserverpb::PutRequest& request) const {
  if (request.lease() != 0 && !engine_->LeaseTtl(request.lease())) return LeaseNotFoundError();
  if (request.ignore_value() || request.ignore_lease()) {
    if (!engine_->Read(request.key(), kLatest, [](const Version&) {})) return KeyNotFoundError();
  }
  return absl::OkStatus();
}

namespace {

void FillKeyValue(std::string_view key, const Version& version, mvccpb::KeyValue* kv) {
  kv->set_key(std::string(key));
  kv->set_create_revision(version.create_revision);
  kv->set_mod_revision(version.mod_revision);
  kv->set_version(version.version);
  kv->set_value(version.value);
  kv->set_lease(version.lease);
}

}  // namespace

void Store::Put(WriteBatch& batch, const etcdserverpb::PutRequest& request,
                etcdserverpb::PutResponse* response) {
  Version next;
  next.mod_revision = batch.revision;
  int64_t prev_lease = 0;
  std::optional<size_t> prev_value_bytes;
  // The previous value is copied only when the request asks for it.
  const bool existed = engine_->Read(request.key(), kLatest, [&](const Version& prev) {
    if (request.prev_kv()) FillKeyValue(request.key(), prev, response->mutable_prev_kv());
    prev_lease = prev.lease;
    prev_value_bytes = prev.value.size();
    next.create_revision = prev.create_revision;
    next.version = prev.version + 1;
    next.lease = request.ignore_lease() ? prev.lease : request.lease();
    next.value = request.ignore_value() ? prev.value : request.value();
  });
  if (!existed) {
    next.create_revision = batch.revision;
    next.version = 1;
    next.lease = request.lease();
    next.value = request.value();
    ++meta_.live_keys;
  }
  meta_.size_bytes += VersionBytes(request.key().size(), next.value.size());
  MoveKeyLease(request.key(), prev_lease, next.lease);
  engine_->AppendVersion(request.key(), std::move(next), prev_value_bytes);
  batch.wrote = true;
  response->mutable_header()->set_revision(batch.visible());
}

void Store::DeleteRange(WriteBatch& batch, const etcdserverpb::DeleteRangeRequest& request,
                        etcdserverpb::DeleteRangeResponse* response) {
  // Read first, then write: an engine is not written while it is being scanned.
  struct Victim {
    std::string key;
    int64_t lease;
    size_t value_bytes;
  };
  std::vector<Victim> victims;
  const EtcdRange range(request.key(), request.range_end());
  engine_->Scan(range.range(), kLatest, [&](const std::string& key, const Version& prev) {
    if (request.prev_kv()) FillKeyValue(key, prev, response->add_prev_kvs());
    victims.push_back({key, prev.lease, prev.value.size()});
    return true;
  });
  for (const Victim& victim : victims) {
    MoveKeyLease(victim.key, victim.lease, 0);
    Version tombstone;
    tombstone.mod_revision = batch.revision;
    tombstone.tombstone = true;
    meta_.size_bytes += VersionBytes(victim.key.size(), 0);
    engine_->AppendVersion(victim.key, std::move(tombstone), victim.value_bytes);
    --meta_.live_keys;
  }
  const auto deleted = static_cast<int64_t>(victims.size());
  // Deleting nothing is not a write: it leaves the revision alone (etcd §6).
  if (deleted > 0) batch.wrote = true;
  response->set_deleted(deleted);
  response->mutable_header()->set_revision(batch.visible());
}

absl::Status Store::Compact(int64_t revision) {
  if (revision <= meta_.compact_revision) return CompactedError();
  if (revision > meta_.revision) return FutureRevisionError();
  meta_.size_bytes -= engine_->Compact(revision);
  meta_.compact_revision = revision;
  return absl::OkStatus();
}

}  // namespace raftkv::kv
