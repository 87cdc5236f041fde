// The watchers of one watch stream: their ids (etcd's allocation and duplicate rules), what each
// watches and how far it has been sent. Bounded, because a client creates watchers at will.
// Thread-safety: thread-compatible; the stream that owns it serializes access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>

#include "absl/status/statusor.h"
#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"

namespace raftkv::server::etcd {

struct Watcher {
  int64_t id = 0;
  etcdserverpb::WatchCreateRequest create;
  // The first revision this watcher has not been sent yet.
  int64_t next_revision = 0;
  // Events went out since the last progress tick, so the next progress notification is skipped
  // (etcd sends them only to watchers that were quiet for a whole interval).
  bool sent_since_progress = false;
};

class WatcherTable {
 public:
  explicit WatcherTable(size_t max_watchers) : max_watchers_(max_watchers) {}

  // Adds a watcher for `create`. watch_id 0 asks the stream for the smallest free id at or above
  // the last one it gave; a non-zero id is the client's. start_revision 0 means the revision after
  // `current_revision`. On failure the status message is etcd's cancel_reason for a created and
  // canceled response with watch_id -1.
  absl::StatusOr<int64_t> Add(const etcdserverpb::WatchCreateRequest& create,
                              int64_t current_revision);
  // False when no watcher has that id.
  bool Remove(int64_t id);
  Watcher* Find(int64_t id);

  std::map<int64_t, Watcher>& watchers() { return watchers_; }
  size_t size() const { return watchers_.size(); }

 private:
  size_t max_watchers_;
  int64_t next_id_ = 0;
  std::map<int64_t, Watcher> watchers_;
};

}  // namespace raftkv::server::etcd
