// One Election.Observe call: streams the election's leader (the oldest key under "<name>/") to
// the client whenever it changes, as concurrency.Election.Observe does for etcd's server.
//
// The first answer follows a linearizable read; after that the observer is a StoreWaiter on the
// watch thread and, after each change of the store, reads the leader from the local store and
// queues it if its key or mod revision differs from the last one sent. No answer is sent while
// there is no leader (etcd waits for the next one). gRPC allows one write at a time, so a newer
// leader replaces one still queued: like etcd's, the stream may skip intermediate values but
// always ends up with the current leader. The stream ends only when the client cancels
// (CANCELLED) or the member stops ("etcdserver: server stopped").
//
// Lifetime: holds itself (shared_ptr) until gRPC calls OnDone; the hub may hold it longer.
// Thread-safety: thread-safe; gRPC reactions and the watch thread call it concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "etcd/etcdserver/api/v3election/v3electionpb/v3election.grpc.pb.h"
#include "server/etcd/backend.h"
#include "server/etcd/store_waiter.h"
#include "server/etcd/watch_hub.h"

namespace raftkv::server::etcd {

class ElectionObserver final : public ::grpc::ServerWriteReactor<v3electionpb::LeaderResponse>,
                               public StoreWaiter,
                               public std::enable_shared_from_this<ElectionObserver> {
 public:
  // Starts observing election `name`; `first_read_deadline` bounds the first linearizable read.
  static ElectionObserver* Start(Backend* backend, WatchHub* hub, const std::string& name,
                                 absl::Time first_read_deadline);

  bool OnStoreChange(bool stopped) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

  // Only through Start.
  ElectionObserver(Backend* backend, WatchHub* hub, const std::string& name);

 private:
  // Ends the stream with `status` once the write in flight (if any) is done.
  void End(::grpc::Status status);
  // Starts the next write or the Finish, whichever the state allows.
  void Pump();

  Backend* const backend_;
  WatchHub* const hub_;
  const std::string prefix_;

  absl::Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<v3electionpb::LeaderResponse> queued_ ABSL_GUARDED_BY(mu_);
  std::optional<::grpc::Status> end_ ABSL_GUARDED_BY(mu_);
  // The leader last queued: its key and mod revision.
  std::string last_key_ ABSL_GUARDED_BY(mu_);
  int64_t last_mod_revision_ ABSL_GUARDED_BY(mu_) = 0;
  // The response being written; touched only by the writer between StartWrite and OnWriteDone.
  v3electionpb::LeaderResponse sending_;
  std::shared_ptr<ElectionObserver> self_;
};

}  // namespace raftkv::server::etcd
