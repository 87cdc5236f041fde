// etcd's waitDeletes for one contender of a lock or an election: waits, without holding a
// thread, until no key under the contender's prefix was created before the contender's own
// key, i.e. until the contender holds the lock or leads.
//
// Unlike etcd 3.4 (whose Mutex then reports the lock acquired with a key that no longer
// exists), the wait also ends when the contender's own key is gone (its lease expired or was
// revoked, or the key was deleted): etcd 3.5's "session expired".
//
// Each check reads the local store: once this member has applied the deletions the contender
// waited for, they are committed, so the answer is safe on any member.
//
// Thread-safety: thread-safe. `done` is called exactly once: from the watch thread, or from
// Cancel's caller.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "server/etcd/backend.h"
#include "server/etcd/store_waiter.h"
#include "server/etcd/watch_hub.h"

namespace raftkv::server::etcd {

class TurnWaiter final : public StoreWaiter, public std::enable_shared_from_this<TurnWaiter> {
 public:
  enum class Outcome {
    kTurn,      // nothing ahead any more; `revision` is the store revision that showed it
    kKeyGone,   // the contender's own key is gone or was re-created
    kStopped,   // the backend stopped serving
    kRefused,   // too many calls wait on this member
    kCanceled,  // Cancel was called first
  };
  using Done = absl::AnyInvocable<void(Outcome outcome, int64_t revision)>;

  // `key` is the contender's key under `prefix`, created at `create_revision`.
  TurnWaiter(Backend* backend, WatchHub* hub, std::string prefix, std::string key,
             int64_t create_revision, Done done);

  // Registers with the hub; the first check follows on the watch thread. When the hub refuses,
  // `done` is called at once with kStopped or kRefused.
  void Start();
  // Ends the wait with kCanceled unless it already ended.
  void Cancel();

  bool OnStoreChange(bool stopped) override;

 private:
  // Takes `done_` if the wait has not ended yet; empty otherwise.
  Done Take();

  Backend* const backend_;
  WatchHub* const hub_;
  const std::string prefix_;
  const std::string key_;
  const int64_t create_revision_;
  absl::Mutex mu_;
  Done done_ ABSL_GUARDED_BY(mu_);
};

}  // namespace raftkv::server::etcd
