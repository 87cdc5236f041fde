// The key-space conventions of etcd's concurrency package (clientv3/concurrency), which the
// Lock and Election services follow exactly so that they interoperate with clients that use
// the package directly (etcdctl lock, etcdctl elect): a lock or election named N keeps one key
// per session under "N/", named by the session's lease in hex, attached to that lease; the key
// created first holds the lock or leads.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"

namespace raftkv::server::etcd {

// The TTL of the lease granted for a call that names lease 0 (concurrency's default session).
inline constexpr int64_t kDefaultSessionTtlSeconds = 60;

// "name/".
std::string ContenderPrefix(std::string_view name);
// "name/<lease in lower-case hex>".
std::string ContenderKey(std::string_view prefix, int64_t lease);
// The end of the range holding every key that starts with `prefix` (clientv3's
// GetPrefixRangeEnd): "\0" (every key from `prefix`) when no such end exists.
std::string PrefixRangeEnd(std::string_view prefix);

// A range over `prefix` sorted by create revision (ascending: the holder or leader first;
// descending with max_create_revision: the last contender ahead of a revision), limit 1.
etcdserverpb::RangeRequest FirstCreated(std::string_view prefix);
// `key`'s create revision equals `revision` (0: the key does not exist).
etcdserverpb::Compare CreateRevisionIs(std::string_view key, int64_t revision);

// The errors of etcd's lock and election servers. They are Go errors, not etcd's gRPC
// statuses, so gRPC delivers them with code UNKNOWN and the error text.
absl::Status SessionExpiredError();     // "session expired"
absl::Status ElectionNotLeaderError();  // "election: not leader"
absl::Status ElectionNoLeaderError();   // "election: no leader"
absl::Status MissingLeaderKeyError();   // "\"leader\" field must be provided"

}  // namespace raftkv::server::etcd
