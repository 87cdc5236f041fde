// Lease keep-alives and TTL queries sent to the leader on behalf of a member that does not lead.
//
// Only the leader's clock knows when a lease expires (docs/architecture.md, "Leases"), so a
// follower that is asked forwards the question to the leader's client URL, retrying while
// leadership moves (LeaderForwarder), as etcd's LeaseRenew and LeaseTimeToLive do. A keep-alive
// travels as a one-request LeaseKeepAlive stream, a TTL query as a LeaseTimeToLive call, both
// with gRPC's asynchronous client.
//
// Thread-safety: pure functions over a thread-safe LeaderForwarder.
#pragma once

#include <cstdint>

#include "absl/time/time.h"
#include "server/etcd/backend.h"
#include "server/etcd/leader_forwarder.h"

namespace raftkv::server::etcd {

// The leader's answer to a keep-alive of lease `id`: its TTL, or 0 when it has no such lease.
void ForwardRenewLease(LeaderForwarder& forwarder, int64_t id, absl::Time deadline,
                       Backend::RenewDone done);

// The leader's view of lease `id`; kv::LeaseNotFoundError when it has no such lease.
void ForwardLeaseTimeToLive(LeaderForwarder& forwarder, int64_t id, bool with_keys,
                            absl::Time deadline, Backend::TimeToLiveDone done);

}  // namespace raftkv::server::etcd
