// One catch-up step of one watcher (etcd's watchable_store syncWatchers, per watcher).
#include "server/etcd/watch_catch_up.h"

#include "server/etcd/watch_response.h"

namespace raftkv::server::etcd {

CatchUpStep CatchUpWatcher(const kv::Store& store, Watcher& watcher, size_t max_events) {
  CatchUpStep step;
  const etcdserverpb::WatchCreateRequest& create = watcher.create;
  auto page = store.Events(create.key(), create.range_end(), watcher.next_revision - 1,
                           store.revision(), create.prev_kv(), max_events);
  if (!page.ok()) {
    // Only compaction makes Events fail: answer as etcd does and let the caller drop the watcher.
    etcdserverpb::WatchResponse& response = step.response.emplace();
    response.mutable_header()->set_revision(store.revision());
    response.set_watch_id(watcher.id);
    response.set_compact_revision(store.compact_revision());
    response.set_canceled(true);
    step.canceled = true;
    return step;
  }
  watcher.next_revision = page->through + 1;
  etcdserverpb::WatchResponse response;
  for (mvccpb::Event& event : page->events) {
    if (PassesWatchFilters(create, event)) *response.add_events() = std::move(event);
  }
  if (response.events_size() == 0) return step;
  // The revision the watcher has been brought up to (the store's, unless the page was cut).
  response.mutable_header()->set_revision(page->through);
  response.set_watch_id(watcher.id);
  step.response = std::move(response);
  return step;
}

}  // namespace raftkv::server::etcd
