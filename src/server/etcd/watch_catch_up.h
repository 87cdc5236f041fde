// Moves one watcher forward through the store's history: the step the watch thread repeats for
// every watcher behind the applied revision, whether it is live (one revision behind) or
// replaying from an old start_revision. Pure: reads the store, touches no stream.
// Thread-safety: the caller holds the store's reader lock and owns `watcher`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"
#include "kv/store.h"
#include "server/etcd/watcher_table.h"

namespace raftkv::server::etcd {

struct CatchUpStep {
  // What to send, if anything (a page whose events were all filtered out sends nothing). Its
  // header carries only the revision; the service fills in the cluster fields.
  std::optional<etcdserverpb::WatchResponse> response;
  // The watcher's start is compacted: `response` is etcd's compacted cancel and the watcher
  // must be removed.
  bool canceled = false;
};

// Reads at most about `max_events` events (never splitting a revision) after
// watcher.next_revision - 1, up to the store revision, and advances watcher.next_revision past
// them. The response's header revision is the revision the watcher was brought up to.
CatchUpStep CatchUpWatcher(const kv::Store& store, Watcher& watcher, size_t max_events);

}  // namespace raftkv::server::etcd
