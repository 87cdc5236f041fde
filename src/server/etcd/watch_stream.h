// One Watch call: a bidirectional gRPC stream carrying many watchers (etcd's serverWatchStream).
//
// Requests are handled on gRPC's callback threads as they are read: a create adds a watcher and
// queues its created response, a cancel removes one and queues the canceled response, a
// progress request is remembered for the watch thread. Events are never produced here: the
// watch thread (WatchHub) calls CatchUp under the store's reader lock, which pages each watcher
// that is behind forward through the store's history into the same queue. Responses leave the
// queue one gRPC write at a time, in queue order, so a watcher's created response always
// precedes its events and its canceled response follows them.
//
// Back-pressure: CatchUp adds pages only while the queue holds fewer than max_pending_responses
// and max_pending_bytes; a watcher that cannot be paged forward keeps its next revision and is
// continued when writes complete (or canceled with etcd's compacted answer if compaction
// overtakes it). Control responses always go in, but the next request is read only once the
// queue is below its bound again, so a client that sends without reading gets no further.
//
// Lifetime: created by WatchService as a shared_ptr that holds itself until gRPC calls OnDone;
// the hub keeps shared_ptrs of the live streams.
// Thread-safety: thread-safe; gRPC reactions and the watch thread call it concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "kv/store.h"
#include "server/etcd/backend.h"
#include "server/etcd/watch_options.h"
#include "server/etcd/watcher_table.h"

namespace raftkv::server::etcd {

class WatchHub;

class WatchStream final
    : public ::grpc::ServerBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>,
      public std::enable_shared_from_this<WatchStream> {
 public:
  // `backend` and `hub` must outlive the stream.
  static std::shared_ptr<WatchStream> Create(Backend* backend, WatchHub* hub,
                                             const WatchOptions& options);

  // What the watch thread must do for this stream given the store revision.
  bool NeedsCatchUp(int64_t store_revision, bool progress_due);
  // Pages watchers that are behind forward, answers a pending progress request once every
  // watcher is caught up, and (when `progress_due`) sends progress notifications to quiet
  // progress_notify watchers. Returns true when work is left because a page budget ran out
  // (not because the queue is full: completed writes call the hub again).
  // REQUIRES: the caller holds the store's reader lock.
  bool CatchUp(const kv::Store& store, bool progress_due);
  // Ends the call with `status` once the response being written (if any) is out; queued
  // responses are dropped (a client resumes from the last revision it saw).
  void End(::grpc::Status status);
  // Starts whatever gRPC operation the state allows: the next write, a paused read, Finish.
  void Pump();

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

  // Only through Create.
  WatchStream(Backend* backend, WatchHub* hub, const WatchOptions& options);

 private:
  void Handle(const etcdserverpb::WatchRequest& request);
  void HandleCreate(etcdserverpb::WatchCreateRequest create);
  void HandleCancel(int64_t watch_id);
  void HandleProgressRequest();
  void Enqueue(etcdserverpb::WatchResponse response) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool HasRoom() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sends `watcher` what one catch-up step found. False when the watcher was canceled.
  bool Deliver(Watcher& watcher, etcdserverpb::WatchResponse response)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t StoreRevision();

  Backend* const backend_;
  WatchHub* const hub_;
  const WatchOptions options_;

  // Read into by the one outstanding StartRead.
  etcdserverpb::WatchRequest request_;
  // Owned by the one outstanding StartWrite.
  etcdserverpb::WatchResponse writing_;

  absl::Mutex mu_;
  WatcherTable table_ ABSL_GUARDED_BY(mu_);
  // Bytes of the watchers' create requests, bounded by max_watcher_bytes_per_stream.
  size_t watcher_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  struct Queued {
    etcdserverpb::WatchResponse response;
    size_t bytes = 0;
  };
  std::deque<Queued> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool writing_now_ ABSL_GUARDED_BY(mu_) = false;
  // CatchUp left a watcher behind for want of queue room: a completed write wakes the hub.
  bool blocked_ ABSL_GUARDED_BY(mu_) = false;
  // Where the next CatchUp starts, so that watchers of a slow stream take turns.
  int64_t next_turn_ ABSL_GUARDED_BY(mu_) = 0;
  // The client's requests: a read is outstanding, paused for back-pressure, or over.
  bool read_paused_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_over_ ABSL_GUARDED_BY(mu_) = false;
  // A WatchProgressRequest waits for every watcher to catch up (several coalesce into one).
  bool progress_requested_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<::grpc::Status> end_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;

  // Keeps the stream alive until gRPC is done with it.
  std::shared_ptr<WatchStream> self_;
};

}  // namespace raftkv::server::etcd
