// Stateless checks of a write request, the ones etcd makes before proposing it.
//
// The API layer calls ValidateRequest to reject a malformed request without a raft round trip;
// Store::Apply calls it again so that the state machine never depends on its callers.
// Thread-safety: pure functions.
#pragma once

#include <limits>

#include "absl/status/status.h"
#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"
#include "kv/errors.h"
#include "raftkv/kvpb/kv.pb.h"

namespace raftkv::kv {

inline constexpr int kNoTxnOpsLimit = std::numeric_limits<int>::max();

// OK, or the etcd error for: an empty key anywhere, ignore_value/ignore_lease together with a
// value/lease, more than kMaxTxnOps compares or operations in a txn branch, the same key written
// twice on one branch of a txn (including a put inside a delete range), an alarm request
// ValidateAlarm refuses, or no operation at all.
//
// `max_txn_ops` is etcd's --max-txn-ops, the API's limit. The store applies with kNoTxnOpsLimit:
// an entry in the log was accepted by some member's API under that member's limit, and every
// member must apply it the same way whatever its own flag says.
absl::Status ValidateRequest(const kvpb::Request& request, int max_txn_ops = kMaxTxnOps);

absl::Status ValidateRange(const etcdserverpb::RangeRequest& request);
absl::Status ValidatePut(const etcdserverpb::PutRequest& request);
absl::Status ValidateDeleteRange(const etcdserverpb::DeleteRangeRequest& request);
absl::Status ValidateTxn(const etcdserverpb::TxnRequest& request, int max_txn_ops = kMaxTxnOps);
// A known action and alarm type; ACTIVATE only for NOSPACE.
absl::Status ValidateAlarm(const etcdserverpb::AlarmRequest& request);

}  // namespace raftkv::kv
