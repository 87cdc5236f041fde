#include "kv/quota.h"

#include <algorithm>

namespace raftkv::kv {
namespace {

// etcdserver/quota.go: kvOverhead and leaseOverhead.
constexpr int64_t kPutOverheadBytes = 256;
constexpr int64_t kLeaseOverheadBytes = 64;

int64_t PutCost(const etcdserverpb::PutRequest& put) {
  return kPutOverheadBytes + static_cast<int64_t>(put.key().size() + put.value().size());
}

int64_t TxnCost(const etcdserverpb::TxnRequest& txn);

int64_t BranchCost(const google::protobuf::RepeatedPtrField<etcdserverpb::RequestOp>& ops) {
  int64_t cost = 0;
  for (const etcdserverpb::RequestOp& op : ops) {
    if (op.has_request_put()) cost += PutCost(op.request_put());
    if (op.has_request_txn()) cost += TxnCost(op.request_txn());
  }
  return cost;
}

// Only one branch runs, so the larger one is what the txn may need.
int64_t TxnCost(const etcdserverpb::TxnRequest& txn) {
  return std::max(BranchCost(txn.success()), BranchCost(txn.failure()));
}

}  // namespace

int64_t QuotaCost(const kvpb::Request& request) {
  switch (request.op_case()) {
    case kvpb::Request::kPut:
      return PutCost(request.put());
    case kvpb::Request::kTxn:
      return TxnCost(request.txn());
    case kvpb::Request::kLeaseGrant:
      return kLeaseOverheadBytes;
    case kvpb::Request::kDeleteRange:
    case kvpb::Request::kCompaction:
    case kvpb::Request::kLeaseRevoke:
    case kvpb::Request::kAlarm:
    case kvpb::Request::OP_NOT_SET:
      return 0;
  }
  return 0;
}

}  // namespace raftkv::kv
