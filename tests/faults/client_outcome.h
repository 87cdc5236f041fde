// What a failed client call tells the history: did the operation certainly not happen, or may
// it have happened?
//
// A write may be recorded as failed only when the server's answer proves it was never proposed,
// because the checker then ignores it: if it had in fact been applied, a later read of its value
// would look impossible and the harness would report a violation the server did not commit. The
// answers that prove it are etcd's "never proposed" errors (src/node/errors.h), which the node
// driver gives only before a request reaches the raft log:
//
//   UNAVAILABLE        "etcdserver: no leader"          no leader known, nothing proposed
//   UNAVAILABLE        "etcdserver: leader changed"     the proposal was refused by raft
//   RESOURCE_EXHAUSTED "etcdserver: too many requests"  refused by the backlog limit
//
// Everything else is unknown: a deadline that passed (the entry may commit later), "request timed
// out" (proposed, outcome unknown), "server stopped", a broken or refused connection (the request
// may have been sent before the connection died), and any error this list does not know.
//
// A read changes nothing, so a failed read is simply failed.
#pragma once

#include "grpcpp/support/status.h"
#include "lincheck/history.h"

namespace raftkv::faults {

lincheck::OpStatus OutcomeOfFailedWrite(const grpc::Status& status);

}  // namespace raftkv::faults
