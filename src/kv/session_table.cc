#include "kv/session_table.h"

namespace raftkv::kv {

const SessionTable::Entry* SessionTable::Find(uint64_t client) const {
  auto it = entries_.find(client);
  return it == entries_.end() ? nullptr : &it->second;
}

void SessionTable::Set(uint64_t client, Entry entry) {
  Erase(client);
  by_last_use_.emplace(entry.last_used_ms, client);
  bytes_ += entry.bytes;
  entries_.emplace(client, entry);
}

void SessionTable::Erase(uint64_t client) {
  auto it = entries_.find(client);
  if (it == entries_.end()) return;
  by_last_use_.erase({it->second.last_used_ms, client});
  bytes_ -= it->second.bytes;
  entries_.erase(it);
}

void SessionTable::Clear() {
  entries_.clear();
  by_last_use_.clear();
  bytes_ = 0;
}

std::optional<uint64_t> SessionTable::LeastRecentlyUsed() const {
  if (by_last_use_.empty()) return std::nullopt;
  return by_last_use_.begin()->second;
}

}  // namespace raftkv::kv
