// etcd's space quota arithmetic (etcdserver/quota.go): what a write is expected to add to the
// store. The store refuses every write with a cost while the NOSPACE alarm is raised, and the
// node driver compares the store's size plus a write's cost with --quota-backend-bytes before
// proposing it.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>

#include "raftkv/kvpb/kv.pb.h"

namespace raftkv::kv {

// etcd's default --quota-backend-bytes (2 GiB), used when the flag is 0.
inline constexpr int64_t kDefaultQuotaBytes = int64_t{2} << 30;

// etcd's estimate: a put costs its key and value plus 256 bytes of metadata; a txn the larger of
// its two branches' puts (the puts of nested txns count too, the larger branch of each); a lease
// grant 64 bytes. Deletes, compactions, revokes and alarms cost nothing: they never need space,
// which is what lets an operator recover from NOSPACE.
int64_t QuotaCost(const kvpb::Request& request);

}  // namespace raftkv::kv
