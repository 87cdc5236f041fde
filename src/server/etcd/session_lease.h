// The lease of a lock or election call, as etcd's servers obtain it through
// concurrency.NewSession(WithLease(lease)) and then Orphan: the caller's lease as given, or for
// lease 0 a new lease of kDefaultSessionTtlSeconds, granted through the log and never kept
// alive by the server (it expires unless the client keeps it alive).
// Thread-safety: thread-safe (Backend::Write).
#pragma once

#include <cstdint>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/etcd/backend.h"

namespace raftkv::server::etcd {

using SessionLeaseDone = absl::AnyInvocable<void(absl::StatusOr<int64_t> lease)>;

// Answers `lease` at once (on the caller's thread) unless it is 0; then grants one and answers
// its id from the thread that applied the grant.
void SessionLease(Backend& backend, int64_t lease, absl::Time deadline, SessionLeaseDone done);

}  // namespace raftkv::server::etcd
