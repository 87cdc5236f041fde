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

constexpr std::string_view kFromKey("\0", 1);

template <typename Map>
auto BoundsIn(Map& keys, std::string_view key, std::string_view range_end) {
  if (range_end.empty()) {
    auto it = keys.find(key);
    return std::make_pair(it, it == keys.end() ? it : std::next(it));
  }
  if (range_end == kFromKey) return std::make_pair(keys.lower_bound(key), keys.end());
  if (range_end <= key) return std::make_pair(keys.end(), keys.end());
  return std::make_pair(keys.lower_bound(key), keys.lower_bound(range_end));
}

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

std::pair<Store::KeyMap::const_iterator, Store::KeyMap::const_iterator> Store::Bounds(
    std::string_view key, std::string_view range_end) const {
  return BoundsIn(keys_, key, range_end);
}

std::pair<Store::KeyMap::iterator, Store::KeyMap::iterator> Store::MutableBounds(
    std::string_view key, std::string_view range_end) {
  return BoundsIn(keys_, key, range_end);
}

const Store::Version* Store::VisibleAt(const History& history, int64_t revision) {
  // Most reads are at the current revision: the newest version answers them without a search.
  const Version* found = nullptr;
  if (history.back().mod_revision <= revision) {
    found = &history.back();
  } else {
    auto it = std::upper_bound(
        history.begin(), history.end(), revision,
        [](int64_t rev, const Version& version) { return rev < version.mod_revision; });
    if (it == history.begin()) return nullptr;
    found = &*std::prev(it);
  }
  return found->tombstone ? nullptr : found;
}

absl::Status Store::CheckReadRevision(int64_t revision) const {
  if (revision > revision_) return FutureRevisionError();
  if (revision > 0 && revision < compact_revision_) return CompactedError();
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

  struct Hit {
    const std::string* key;
    const Version* version;
  };
  std::vector<Hit> hits;
  int64_t count = 0;
  int64_t matched = 0;  // hits that passed the filters, possibly more than kept in `hits`
  auto [first, last] = Bounds(request.key(), request.range_end());
  for (auto it = first; it != last; ++it) {
    const Version* version = VisibleAt(it->second, revision);
    if (version == nullptr) continue;
    ++count;
    if (request.count_only()) continue;
    if (!PassesFilters(request, version->mod_revision, version->create_revision)) continue;
    ++matched;
    // In key order the first limit + 1 hits decide the answer; later ones only count.
    if (key_order && limit > 0 && static_cast<int64_t>(hits.size()) > limit) continue;
    hits.push_back({&it->first, version});
  }

  if (!key_order) {
    auto field = [&](const Hit& hit) -> int64_t {
      switch (request.sort_target()) {
        case RangeRequest::VERSION:
          return hit.version->version;
        case RangeRequest::CREATE:
          return hit.version->create_revision;
        case RangeRequest::MOD:
          return hit.version->mod_revision;
        default:
          return 0;
      }
    };
    auto less = [&](const Hit& a, const Hit& b) {
      switch (request.sort_target()) {
        case RangeRequest::KEY:
          return *a.key < *b.key;
        case RangeRequest::VALUE:
          return a.version->value < b.version->value;
        default:
          return field(a) < field(b);
      }
    };
    if (order == RangeRequest::DESCEND) {
      std::stable_sort(hits.begin(), hits.end(),
                       [&](const Hit& a, const Hit& b) { return less(b, a); });
    } else {
      std::stable_sort(hits.begin(), hits.end(), less);
    }
  }

  etcdserverpb::RangeResponse response;
  response.set_count(count);
  if (limit > 0 && matched > limit) {
    hits.resize(limit);
    response.set_more(true);
  }
  response.mutable_kvs()->Reserve(static_cast<int>(hits.size()));
  for (const Hit& hit : hits) {
    mvccpb::KeyValue* kv = response.add_kvs();
    kv->set_key(*hit.key);
    kv->set_create_revision(hit.version->create_revision);
    kv->set_mod_revision(hit.version->mod_revision);
    kv->set_version(hit.version->version);
    kv->set_lease(hit.version->lease);
    if (!request.keys_only()) kv->set_value(hit.version->value);
  }
  return response;
}

absl::StatusOr<etcdserverpb::RangeResponse> Store::Range(const RangeRequest& request) const {
  if (auto status = ValidateRange(request); !status.ok()) return status;
  if (auto status = CheckReadRevision(request.revision()); !status.ok()) return status;
  const int64_t revision = request.revision() > 0 ? request.revision() : revision_;
  etcdserverpb::RangeResponse response = RangeAt(request, revision);
  // The header reports the store's current revision even for a read in the past, as etcd does.
  response.mutable_header()->set_revision(revision_);
  return response;
}

absl::StatusOr<HashKVResult> Store::HashKV(int64_t revision) const {
  if (auto status = CheckReadRevision(revision); !status.ok()) return status;
  HashKVResult result;
  result.revision = revision > 0 ? revision : revision_;
  result.compact_revision = compact_revision_;
  std::string record;
  uint32_t crc = 0;
  for (const auto& [key, history] : keys_) {
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
  }
  result.hash = crc;
  return result;
}

}  // namespace raftkv::kv
