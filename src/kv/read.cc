// The store's read side: range lookups at a revision, and HashKV.
#include <algorithm>
#include <string_view>
#include <vector>

#include "base/crc32c.h"
#include "kv/errors.h"
#include "kv/store.h"
#include "kv/validate.h"

namespace raftkv::kv {
namespace {

using etcdserverpb::RangeRequest;

bool PassesFilters(const RangeRequest& request, int64_t mod_revision, int64_t create_revision) {
  if (request.min_mod_revision() != 0 && mod_revision < request.min_mod_revision()) return false;
  if (request.max_mod_revision() != 0 && mod_revision > request.max_mod_revision()) return false;
  if (request.min_create_revision() != 0 && create_revision < request.min_create_revision()) {
    return false;
  }
  if (request.max_create_revision() != 0 && create_revision > request.max_create_revision()) {
    return false;
  }
  return true;
}

void AppendFixed64(std::string* out, int64_t value) {
  for (int i = 0; i < 8; ++i)
    out->push_back(static_cast<char>((static_cast<uint64_t>(value) >> (8 * i)) & 0xFF));
}

}  // namespace

absl::Status Store::CheckReadRevision(int64_t revision) const {
  if (revision > meta_.revision) return FutureRevisionError();
  if (revision > 0 && revision < meta_.compact_revision) return CompactedError();
  return absl::OkStatus();
}

etcdserverpb::RangeResponse Store::RangeAt(const RangeRequest& request, int64_t revision) const {
  RangeRequest::SortOrder order = request.sort_order();
  // etcd's rule: a sort target other than KEY without an order means ascending.
  if (order == RangeRequest::NONE && request.sort_target() != RangeRequest::KEY) {
    order = RangeRequest::ASCEND;
  }
  const bool key_order =
      order == RangeRequest::NONE ||
      (order == RangeRequest::ASCEND && request.sort_target() == RangeRequest::KEY);
  const int64_t limit = request.limit() > 0 ? request.limit() : 0;

  // A sort by value needs the values even when the answer leaves them out.
  const bool need_values =
      !request.keys_only() || (!key_order && request.sort_target() == RangeRequest::VALUE);

  // Hits go straight into the answer; what the limit cuts is removed at the end.
  etcdserverpb::RangeResponse response;
  auto* kvs = response.mutable_kvs();
  int64_t count = 0;
  int64_t matched = 0;  // hits that passed the filters, possibly more than kept in `kvs`
  const EtcdRange range(request.key(), request.range_end());
  engine_->Scan(range.range(), revision, [&](const std::string& key, const Version& version) {
    ++count;
    if (request.count_only()) return true;
    if (!PassesFilters(request, version.mod_revision, version.create_revision)) return true;
    ++matched;
    // In key order the first limit + 1 hits decide the answer; later ones only count.
    if (key_order && limit > 0 && kvs->size() > limit) return true;
    mvccpb::KeyValue* kv = kvs->Add();
    kv->set_key(key);
    kv->set_create_revision(version.create_revision);
    kv->set_mod_revision(version.mod_revision);
    kv->set_version(version.version);
    kv->set_lease(version.lease);
    if (need_values) kv->set_value(version.value);
    return true;
  });

  if (!key_order) {
    auto field = [&](const mvccpb::KeyValue* kv) -> int64_t {
      switch (request.sort_target()) {
        case RangeRequest::VERSION:
          return kv->version();
        case RangeRequest::CREATE:
          return kv->create_revision();
        case RangeRequest::MOD:
          return kv->mod_revision();
        default:
          return 0;
      }
    };
    auto less = [&](const mvccpb::KeyValue* a, const mvccpb::KeyValue* b) {
      switch (request.sort_target()) {
        case RangeRequest::KEY:
          return a->key() < b->key();
        case RangeRequest::VALUE:
          return a->value() < b->value();
        default:
          return field(a) < field(b);
      }
    };
    // Sorting the element pointers moves no message.
    if (order == RangeRequest::DESCEND) {
      std::stable_sort(
          kvs->pointer_begin(), kvs->pointer_end(),
          [&](const mvccpb::KeyValue* a, const mvccpb::KeyValue* b) { return less(b, a); });
    } else {
      std::stable_sort(kvs->pointer_begin(), kvs->pointer_end(), less);
    }
  }

  response.set_count(count);
  if (limit > 0 && matched > limit) {
    kvs->DeleteSubrange(static_cast<int>(limit), kvs->size() - static_cast<int>(limit));
    response.set_more(true);
  }
  if (request.keys_only() && need_values) {
    for (mvccpb::KeyValue& kv : *kvs) kv.clear_value();
  }
  return response;
}

absl::StatusOr<etcdserverpb::RangeResponse> Store::Range(const RangeRequest& request) const {
  if (auto status = ValidateRange(request); !status.ok()) return status;
  if (auto status = CheckReadRevision(request.revision()); !status.ok()) return status;
  const int64_t revision = request.revision() > 0 ? request.revision() : meta_.revision;
  etcdserverpb::RangeResponse response = RangeAt(request, revision);
  // The header reports the store's current revision even for a read in the past, as etcd does.
  response.mutable_header()->set_revision(meta_.revision);
  return response;
}

absl::StatusOr<HashKVResult> Store::HashKV(int64_t revision) const {
  if (auto status = CheckReadRevision(revision); !status.ok()) return status;
  HashKVResult result;
  result.revision = revision > 0 ? revision : meta_.revision;
  result.compact_revision = meta_.compact_revision;
  std::string record;
  uint32_t crc = 0;
  engine_->ForEachKeyHistory([&](const std::string& key, std::span<const Version> history) {
    for (const Version& version : history) {
      if (version.mod_revision > result.revision) break;
      record.clear();
      AppendFixed64(&record, static_cast<int64_t>(key.size()));
      record.append(key);
      AppendFixed64(&record, version.mod_revision);
      AppendFixed64(&record, version.create_revision);
      AppendFixed64(&record, version.version);
      AppendFixed64(&record, version.lease);
      record.push_back(version.tombstone ? 1 : 0);
      AppendFixed64(&record, static_cast<int64_t>(version.value.size()));
      record.append(version.value);
      crc = base::crc32c::Extend(crc, record.data(), record.size());
    }
  });
  result.hash = crc;
  return result;
}

}  // namespace raftkv::kv
