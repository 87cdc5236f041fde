// The errors the key-value store answers, as etcd states them.
//
// Codes and messages are exactly etcd's (rpctypes), because clientv3 and etcdctl recognise errors
// by their text. The API layer passes these statuses to gRPC unchanged.
// Thread-safety: plain functions, safe anywhere.
#pragma once

#include <cstdint>

#include "absl/status/status.h"

namespace raftkv::kv {

absl::Status EmptyKeyError();          // INVALID_ARGUMENT "etcdserver: key is not provided"
absl::Status KeyNotFoundError();       // INVALID_ARGUMENT "etcdserver: key not found"
absl::Status ValueProvidedError();     // INVALID_ARGUMENT "etcdserver: value is provided"
absl::Status LeaseProvidedError();     // INVALID_ARGUMENT "etcdserver: lease is provided"
absl::Status TooManyOpsError();        // INVALID_ARGUMENT "etcdserver: too many operations ..."
absl::Status DuplicateKeyError();      // INVALID_ARGUMENT "etcdserver: duplicate key given ..."
absl::Status CompactedError();         // OUT_OF_RANGE "etcdserver: mvcc: required revision ..."
absl::Status FutureRevisionError();    // OUT_OF_RANGE "etcdserver: mvcc: ... future revision"
absl::Status LeaseNotFoundError();     // NOT_FOUND "etcdserver: requested lease not found"
absl::Status LeaseExistsError();       // FAILED_PRECONDITION "etcdserver: lease already exists"
absl::Status LeaseTtlTooLargeError();  // OUT_OF_RANGE "etcdserver: too large lease TTL"
absl::Status NoSpaceError();  // RESOURCE_EXHAUSTED "etcdserver: mvcc: database space exceeded"

// etcd's default --max-txn-ops: the most operations one branch of a txn may carry.
inline constexpr int kMaxTxnOps = 128;
// etcd's MaxLeaseTTL, in seconds: a grant asking for more fails with LeaseTtlTooLargeError.
inline constexpr int64_t kMaxLeaseTtlSeconds = 9000000000;

}  // namespace raftkv::kv
