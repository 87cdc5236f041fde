#include "server/etcd/turn_waiter.h"

#include <utility>

#include "kv/store.h"
#include "server/etcd/concurrency_keys.h"

namespace raftkv::server::etcd {

TurnWaiter::TurnWaiter(Backend* backend, WatchHub* hub, std::string prefix, std::string key,
                       int64_t create_revision, Done done)
    : backend_(backend),
      hub_(hub),
      prefix_(std::move(prefix)),
      key_(std::move(key)),
      create_revision_(create_revision),
      done_(std::move(done)) {}

void TurnWaiter::Start() {
  if (hub_->AddWaiter(shared_from_this())) return;
  if (Done done = Take()) done(backend_->Stopped() ? Outcome::kStopped : Outcome::kRefused, 0);
}

void TurnWaiter::Cancel() {
  Done done = Take();
  hub_->RemoveWaiter(this);
  if (done) done(Outcome::kCanceled, 0);
}

TurnWaiter::Done TurnWaiter::Take() {
  absl::MutexLock lock(&mu_);
  return std::move(done_);
}

bool TurnWaiter::OnStoreChange(bool stopped) {
  {
    absl::MutexLock lock(&mu_);
    if (!done_) return false;  // canceled meanwhile
  }
  if (stopped) {
    if (Done done = Take()) done(Outcome::kStopped, 0);
    return false;
  }
  int64_t revision = 0;
  bool mine = false;
  bool ahead = false;
  backend_->Read([&](const kv::Store& store) {
    revision = store.revision();
    etcdserverpb::RangeRequest own;
    own.set_key(key_);
    absl::StatusOr<etcdserverpb::RangeResponse> found = store.Range(own);
    mine =
        found.ok() && found->kvs_size() == 1 && found->kvs(0).create_revision() == create_revision_;
    // waitDeletes' query: the last key created before ours (create revisions start at 2, so a
    // key created at 2 or earlier has nobody ahead; 0 would mean "no bound" to the store).
    if (create_revision_ > 2) {
      etcdserverpb::RangeRequest before = FirstCreated(prefix_);
      before.set_sort_order(etcdserverpb::RangeRequest::DESCEND);
      before.set_max_create_revision(create_revision_ - 1);
      before.set_keys_only(true);
      absl::StatusOr<etcdserverpb::RangeResponse> earlier = store.Range(before);
      ahead = earlier.ok() && earlier->kvs_size() > 0;
    }
  });
  if (!mine) {
    if (Done done = Take()) done(Outcome::kKeyGone, revision);
    return false;
  }
  if (ahead) return true;
  if (Done done = Take()) done(Outcome::kTurn, revision);
  return false;
}

}  // namespace raftkv::server::etcd
