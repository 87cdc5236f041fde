#include "kv/memory_engine.h"

#include <algorithm>
#include <queue>
#include <utility>

#include "kv/invariant.h"

namespace raftkv::kv {
namespace {

// The first version of `history` with mod_revision > revision.
template <typename History>
auto FirstAbove(History& history, int64_t revision) {
  return std::upper_bound(
      history.begin(), history.end(), revision,
      [](int64_t rev, const Version& version) { return rev < version.mod_revision; });
}

// The newest version at or below `revision`, tombstones included; null when there is none.
const Version* NewestAt(const std::vector<Version>& history, int64_t revision) {
  // Most reads are at the current revision: the newest version answers them without a search.
  if (history.back().mod_revision <= revision) return &history.back();
  auto it = FirstAbove(history, revision);
  return it == history.begin() ? nullptr : &*std::prev(it);
}

}  // namespace

std::pair<MemoryEngine::KeyMap::const_iterator, MemoryEngine::KeyMap::const_iterator>
MemoryEngine::Bounds(const KeyRange& range) const {
  // One key ([k, k + '\0'), the form of point reads): a find, not two searches.
  if (range.end.size() == range.begin.size() + 1 && range.end.back() == '\0' &&
      range.end.starts_with(range.begin)) {
    auto it = keys_.find(range.begin);
    return {it, it == keys_.end() ? it : std::next(it)};
  }
  auto first = keys_.lower_bound(range.begin);
  if (range.end.empty()) return {first, keys_.end()};
  if (range.end <= range.begin) return {keys_.end(), keys_.end()};
  return {first, keys_.lower_bound(range.end)};
}

bool MemoryEngine::Read(std::string_view key, int64_t revision, ReadFn fn) const {
  auto it = keys_.find(key);
  if (it == keys_.end()) return false;
  const Version* version = NewestAt(it->second, revision);
  if (version == nullptr || version->tombstone) return false;
  fn(*version);
  return true;
}

void MemoryEngine::Scan(const KeyRange& range, int64_t revision, ScanFn fn) const {
  auto [first, last] = Bounds(range);
  for (auto it = first; it != last; ++it) {
    const Version* version = NewestAt(it->second, revision);
    if (version == nullptr || version->tombstone) continue;
    if (!fn(it->first, *version)) return;
  }
}

void MemoryEngine::History(const KeyRange& range, int64_t from, int64_t through, EventFn fn) const {
  // The keys in range are merged by revision with a heap of per-key cursors, so a page costs its
  // keys once plus its events, not a scan per revision.
  struct Cursor {
    const std::string* key;
    const KeyHistory* history;
    size_t next;
    int64_t revision() const { return (*history)[next].mod_revision; }
  };
  // Orders the heap so that the smallest (revision, key) is on top.
  auto later = [](const Cursor& a, const Cursor& b) {
    if (a.revision() != b.revision()) return a.revision() > b.revision();
    return *a.key > *b.key;
  };
  std::priority_queue<Cursor, std::vector<Cursor>, decltype(later)> cursors(later);
  auto [begin, end] = Bounds(range);
  for (auto it = begin; it != end; ++it) {
    const KeyHistory& history = it->second;
    auto first = FirstAbove(history, from);
    if (first == history.end() || first->mod_revision > through) continue;
    cursors.push(Cursor{&it->first, &history, static_cast<size_t>(first - history.begin())});
  }
  while (!cursors.empty()) {
    Cursor cursor = cursors.top();
    const Version& version = (*cursor.history)[cursor.next];
    const Version* prev = cursor.next > 0 ? &(*cursor.history)[cursor.next - 1] : nullptr;
    if (!fn(*cursor.key, version, prev)) return;
    cursors.pop();
    if (++cursor.next < cursor.history->size() && cursor.revision() <= through) {
      cursors.push(cursor);
    }
  }
}

void MemoryEngine::ForEachKeyHistory(KeyHistoryFn fn) const {
  for (const auto& [key, history] : keys_) fn(key, history);
}

std::optional<int64_t> MemoryEngine::LeaseTtl(int64_t id) const {
  auto it = leases_.find(id);
  if (it == leases_.end()) return std::nullopt;
  return it->second.ttl;
}

std::vector<std::pair<int64_t, int64_t>> MemoryEngine::Leases() const {
  std::vector<std::pair<int64_t, int64_t>> leases;
  leases.reserve(leases_.size());
  for (const auto& [id, lease] : leases_) leases.emplace_back(id, lease.ttl);
  return leases;
}

std::vector<std::string> MemoryEngine::LeaseKeys(int64_t id) const {
  auto it = leases_.find(id);
  if (it == leases_.end()) return {};
  return {it->second.keys.begin(), it->second.keys.end()};
}

void MemoryEngine::AppendVersion(std::string_view key, Version version,
                                 std::optional<size_t> live_value_bytes) {
  auto it = keys_.find(key);
  if (it == keys_.end()) it = keys_.emplace(std::string(key), KeyHistory()).first;
  KeyHistory& history = it->second;
#ifndef NDEBUG
  const bool live = !history.empty() && !history.back().tombstone;
  RAFTKV_KV_INVARIANT(live == live_value_bytes.has_value());
  RAFTKV_KV_INVARIANT(!live || history.back().value.size() == *live_value_bytes);
#else
  (void)live_value_bytes;
#endif
  // Validation guarantees one write per key per request, so revisions strictly increase.
  RAFTKV_KV_INVARIANT(history.empty() || history.back().mod_revision < version.mod_revision);
  RAFTKV_KV_INVARIANT(!history.empty() || !version.tombstone);
  history.push_back(std::move(version));
}

int64_t MemoryEngine::Compact(int64_t revision) {
  int64_t freed_bytes = 0;
  for (auto it = keys_.begin(); it != keys_.end();) {
    KeyHistory& history = it->second;
    // Reads at `revision` or later need the newest version at or below it, and everything above.
    auto above = FirstAbove(history, revision);
    if (above != history.begin()) {
      auto keep = std::prev(above);
      // A tombstone only says "absent", which an empty history says too.
      auto erase_end = keep->tombstone ? above : keep;
      for (auto v = history.begin(); v != erase_end; ++v) {
        freed_bytes += VersionBytes(it->first.size(), v->value.size());
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
  return freed_bytes;
}

void MemoryEngine::PutLease(int64_t id, int64_t ttl) { leases_[id].ttl = ttl; }

void MemoryEngine::DeleteLease(int64_t id) {
  auto it = leases_.find(id);
  RAFTKV_KV_INVARIANT(it != leases_.end() && it->second.keys.empty());
  leases_.erase(it);
}

void MemoryEngine::AttachKey(int64_t lease, std::string_view key) {
  auto it = leases_.find(lease);
  RAFTKV_KV_INVARIANT(it != leases_.end());
  it->second.keys.emplace(key);
}

void MemoryEngine::DetachKey(int64_t lease, std::string_view key) {
  auto it = leases_.find(lease);
  RAFTKV_KV_INVARIANT(it != leases_.end());
  auto key_it = it->second.keys.find(key);
  if (key_it != it->second.keys.end()) it->second.keys.erase(key_it);
}

void MemoryEngine::PutAlarm(uint64_t member, etcdserverpb::AlarmType type) {
  alarms_.emplace(member, type);
}

void MemoryEngine::DeleteAlarm(uint64_t member, etcdserverpb::AlarmType type) {
  alarms_.erase({member, type});
}

std::optional<std::string> MemoryEngine::FindSession(uint64_t client) const {
  auto it = sessions_.find(client);
  if (it == sessions_.end()) return std::nullopt;
  return it->second;
}

void MemoryEngine::ForEachSession(SessionFn fn) const {
  for (const auto& [client, record] : sessions_) fn(client, record);
}

void MemoryEngine::PutSession(uint64_t client, std::string_view record) {
  sessions_[client] = std::string(record);
}

void MemoryEngine::DeleteSession(uint64_t client) { sessions_.erase(client); }

void MemoryEngine::Clear() {
  keys_.clear();
  leases_.clear();
  alarms_.clear();
  cluster_state_.clear();
  sessions_.clear();
}

}  // namespace raftkv::kv
