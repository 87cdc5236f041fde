// Stateless checks of a write request, the ones etcd makes before proposing it.
//
// The API layer calls ValidateRequest to reject a malformed request without a raft round trip;
// Store::Apply calls it again so that the state machine never depends on its callers.
// Thread-safety: pure functions.
#pragma once

#include "absl/status/status.h"
#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"
#include "raftkv/kvpb/kv.pb.h"

namespace raftkv::kv {

// OK, or the etcd error for: an empty key anywhere, ignore_value/ignore_lease together with a
// value/lease, more than kMaxTxnOps compares or operations in a txn branch, the same key written
// twice on one branch of a txn (including a put inside a delete range), an alarm request
// ValidateAlarm refuses, or no operation at all.
absl::Status ValidateRequest(const kvpb::Request& request);

absl::Status ValidateRange(const etcdserverpb::RangeRequest& request);
absl::Status ValidatePut(const etcdserverpb::PutRequest& request);
absl::Status ValidateDeleteRange(const etcdserverpb::DeleteRangeRequest& request);
absl::Status ValidateTxn(const etcdserverpb::TxnRequest& request);
// A known action and alarm type; ACTIVATE only for NOSPACE.
absl::Status ValidateAlarm(const etcdserverpb::AlarmRequest& request);

}  // namespace raftkv::kv
