// Watcher ids and bounds per stream, following etcd's mvcc watchStream.Watch.
#include "server/etcd/watcher_table.h"

#include <string_view>

#include "absl/status/status.h"

namespace raftkv::server::etcd {

absl::StatusOr<int64_t> WatcherTable::Add(const etcdserverpb::WatchCreateRequest& create,
                                          int64_t current_revision) {
  // etcd's messages, which clients show as the cancel reason.
  const std::string_view range_end = create.range_end();
  const bool from_key = range_end == std::string_view("\0", 1);
  if (!range_end.empty() && !from_key && create.key() >= range_end) {
    return absl::InvalidArgumentError("mvcc: watcher range is empty");
  }
  if (watchers_.size() >= max_watchers_) {
    return absl::ResourceExhaustedError("etcdserver: too many watchers on this stream");
  }
  int64_t id = create.watch_id();
  if (id == 0) {
    while (watchers_.contains(next_id_)) ++next_id_;
    id = next_id_++;
  } else if (watchers_.contains(id)) {
    return absl::AlreadyExistsError("mvcc: duplicate watch ID provided on the WatchStream");
  }
  Watcher& watcher = watchers_[id];
  watcher.id = id;
  watcher.create = create;
  watcher.next_revision =
      create.start_revision() > 0 ? create.start_revision() : current_revision + 1;
  return id;
}

bool WatcherTable::Remove(int64_t id) { return watchers_.erase(id) > 0; }

Watcher* WatcherTable::Find(int64_t id) {
  auto it = watchers_.find(id);
  return it == watchers_.end() ? nullptr : &it->second;
}

}  // namespace raftkv::server::etcd
