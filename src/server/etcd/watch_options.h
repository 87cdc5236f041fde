// The knobs of the Watch service: progress notifications and the bounds that keep one client
// from making the server allocate without limit.
// Thread-safety: a plain value.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/time/time.h"

namespace raftkv::server::etcd {

struct WatchOptions {
  // How long a watcher created with progress_notify may go without events before it is sent an
  // empty response carrying the current revision (etcd's --experimental-watch-progress-notify-
  // interval, 10 minutes by default).
  absl::Duration progress_interval = absl::Minutes(10);
  // Watchers one stream may hold at once; a create beyond it is refused (created and canceled).
  size_t max_watchers_per_stream = 10000;
  // Bytes of watcher keys and range ends one stream may hold at once (each create is already
  // bounded by the request size limit; this bounds the sum).
  size_t max_watcher_bytes_per_stream = 64 << 20;
  // Responses queued for one stream beyond the one being sent. Event pages are made only while
  // the queue is below this and below max_pending_bytes; a stream whose client reads slowly
  // stays behind and is paged forward from the store's history later.
  size_t max_pending_responses = 16;
  size_t max_pending_bytes = 4 << 20;
  // Events per page read from history for one watcher (a revision is never split, so a page may
  // hold more when one revision wrote many keys).
  size_t max_events_per_page = 1000;
  // Pages one stream may read per pass of the watch thread, so that the store's reader lock is
  // held briefly and other streams get their turn.
  int max_pages_per_pass = 64;
  // A watcher that asked for fragments gets a response of this size or more split into parts
  // (etcd's limit: --max-request-bytes plus its 512 KiB allowance for gRPC framing).
  size_t fragment_bytes = (1536 + 512) * 1024;
  // Calls waiting for the store other than watch streams (Lock, Campaign, Observe) at once on
  // one member; more are refused with "etcdserver: too many requests".
  size_t max_store_waiters = 10000;
  // How often the store is looked at when the backend cannot announce changes.
  absl::Duration poll_interval = absl::Milliseconds(50);
};

}  // namespace raftkv::server::etcd
