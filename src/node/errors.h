// The operating errors of a replicated request, with etcd's codes and messages (its rpctypes),
// because etcd's clients recognise errors by their text: whether a client retries a request
// depends on which of these it gets. The services pass them through unchanged.
#pragma once

#include "absl/status/status.h"

namespace raftkv::node {

// The request was not proposed: no leader is known. Safe to retry.
absl::Status NoLeaderError();  // UNAVAILABLE "etcdserver: no leader"
// The request was not proposed: the leader changed while it was handed over. Safe to retry.
absl::Status LeaderChangedError();  // UNAVAILABLE "etcdserver: leader changed"
// The request was proposed and its outcome is unknown.
absl::Status TimeoutError();  // UNAVAILABLE "etcdserver: request timed out"
// The request was proposed, its outcome is unknown, and the leader changed or was lost
// meanwhile.
absl::Status
TimeoutDueToLeaderFailError();        // UNAVAILABLE "...possibly due to previous leader failure"
absl::Status TooManyRequestsError();  // RESOURCE_EXHAUSTED "etcdserver: too many requests"
absl::Status StoppedError();          // UNAVAILABLE "etcdserver: server stopped"

// Membership changes.
absl::Status LearnerNotReadyError();  // FAILED_PRECONDITION "...which is in sync with leader"
// A second change while one is still being applied (raft makes one change at a time, thesis
// §4.1). etcd has no dedicated error for this; the message says what to do.
absl::Status ChangeInProgressError();  // FAILED_PRECONDITION

}  // namespace raftkv::node
