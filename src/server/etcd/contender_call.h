// What a Lock call and a Campaign call share (etcd's concurrency.Mutex and concurrency.Election
// run on the server): both take a session lease, put a contender key under a prefix, wait for
// every older contender to go, and withdraw their key if the client gives up first.
//
// A ContenderCall runs those steps one at a time, each started from the previous one's
// callback, so exactly one step is in flight and Finish is always the last thing done. The only
// concurrent event is OnCancel: it ends a wait through TurnWaiter::Cancel (exactly once), or the
// next step notices it. The call deletes itself in OnDone.
//
// A subclass builds its contender key in OnLease, calls WaitForTurn (or TakeTurn, when the
// key is first in line already), answers in OnTurn, and withdraws its key in GiveUp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/support/server_callback.h"
#include "server/etcd/backend.h"
#include "server/etcd/turn_waiter.h"
#include "server/etcd/watch_hub.h"

namespace raftkv::server::etcd {

class ContenderCall : public ::grpc::ServerUnaryReactor {
 public:
  // Obtains the session lease (the request's `lease`, or a new one when it is 0), then calls
  // OnLease; a lease that cannot be had, or a client that cancelled meanwhile, ends the call.
  void Start();

  void OnCancel() final;
  void OnDone() final { delete this; }

 protected:
  // `backend` and `hub` must outlive the call; `deadline` bounds the steps before the wait.
  ContenderCall(Backend* backend, WatchHub* hub, absl::Time deadline, int64_t lease)
      : backend_(backend), hub_(hub), deadline_(deadline), requested_lease_(lease) {}

  // The session lease is known: put the contender key.
  virtual void OnLease(int64_t lease) = 0;
  // The contender holds the lock / leads (never called for a client that cancelled).
  virtual void OnTurn(int64_t revision) = 0;
  // Withdraws the contender's key, then answers `status`.
  virtual void GiveUp(::grpc::Status status) = 0;

  // Waits until no key under `prefix` was created before `key` (created at `create_revision`),
  // then takes the turn. Ends the call when the key disappears ("session expired") or the
  // member stops; gives up when the wait is refused or the client cancels.
  void WaitForTurn(const std::string& prefix, const std::string& key, int64_t create_revision);
  // The turn came at `revision`: OnTurn, unless the client gave up meanwhile (it would never
  // unlock or resign, so the key is withdrawn now).
  void TakeTurn(int64_t revision);
  bool cancelled();

  Backend* const backend_;
  WatchHub* const hub_;
  const absl::Time deadline_;

 private:
  void OnWaitEnded(TurnWaiter::Outcome outcome, int64_t revision);

  const int64_t requested_lease_;
  absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  // Set once the call waits for its turn.
  std::shared_ptr<TurnWaiter> waiter_ ABSL_GUARDED_BY(mu_);
};

}  // namespace raftkv::server::etcd
