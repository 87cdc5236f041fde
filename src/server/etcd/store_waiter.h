// A call that waits for the local store to change, other than a watch stream: a Lock or a
// Campaign waiting for the keys ahead of it to be deleted, an Observe stream following an
// election's leader. Waiters are registered with the WatchHub, whose watch thread already wakes
// after every pass that applied entries; no thread is held while a waiter waits.
// Thread-safety: OnStoreChange is called on the watch thread only, one call at a time.
#pragma once

namespace raftkv::server::etcd {

class StoreWaiter {
 public:
  virtual ~StoreWaiter() = default;

  // Called once soon after the waiter is added and then whenever the store's revision moved,
  // with no lock held: it may Read the backend and start writes, but must not block. When
  // `stopped` the backend serves no more requests and the waiter must end its call. Returns
  // false when it no longer waits (it is then dropped).
  virtual bool OnStoreChange(bool stopped) = 0;
};

}  // namespace raftkv::server::etcd
