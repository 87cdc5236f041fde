// The store's in-memory index of client sessions (kv/session.h): per client id its last sequence,
// last use and charge, ordered by last use for expiry and eviction. The records themselves (with
// the remembered answers) stay in the engine; this index is what lets the store decide without
// reading them, and is rebuilt from the engine when the store is made or restored.
//
// Thread-safety: thread-compatible, like kv::Store.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

namespace raftkv::kv {

class SessionTable {
 public:
  struct Entry {
    uint64_t sequence = 0;
    int64_t last_used_ms = 0;
    // SessionBytes of the record.
    int64_t bytes = 0;
  };

  // The entry of `client`, or null. The pointer is valid until the next change.
  const Entry* Find(uint64_t client) const;
  // Adds or replaces the entry of `client`.
  void Set(uint64_t client, Entry entry);
  void Erase(uint64_t client);
  void Clear();

  // The least recently used client: smallest last use, then smallest client id (so every member
  // picks the same one). nullopt when empty.
  std::optional<uint64_t> LeastRecentlyUsed() const;

  size_t size() const { return entries_.size(); }
  // The sum of the entries' bytes.
  int64_t bytes() const { return bytes_; }

 private:
  // Never iterated (its order is not deterministic): looked up only.
  std::unordered_map<uint64_t, Entry> entries_;
  // (last_used_ms, client) of every entry.
  std::set<std::pair<int64_t, uint64_t>> by_last_use_;
  int64_t bytes_ = 0;
};

}  // namespace raftkv::kv
