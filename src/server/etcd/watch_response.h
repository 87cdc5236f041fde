// Pure pieces of the Watch service that shape what one watcher is sent: event filters and
// etcd's fragmentation of a large response. No gRPC, no locks: the watch hub calls them.
// Thread-safety: plain functions, safe anywhere.
#pragma once

#include <cstddef>
#include <vector>

#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"
#include "etcd/mvcc/mvccpb/kv.pb.h"

namespace raftkv::server::etcd {

// True when `event` survives the create request's filters (NOPUT drops puts, NODELETE deletes).
bool PassesWatchFilters(const etcdserverpb::WatchCreateRequest& create,
                        const mvccpb::Event& event);

// Splits `response` the way etcd does for a watcher that asked for fragments: a response at or
// over `max_bytes` with at least two events becomes several, each holding as many events as fit
// under `max_bytes` (at least one), all but the last marked fragment=true. Anything else comes
// back whole.
std::vector<etcdserverpb::WatchResponse> FragmentWatchResponse(
    const etcdserverpb::WatchResponse& response, size_t max_bytes);

}  // namespace raftkv::server::etcd
