#include "kv/validate.h"

#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kv/errors.h"

namespace raftkv::kv {
namespace {

using etcdserverpb::RequestOp;

// A delete's key range in etcd's range form (see Store::Bounds).
struct Interval {
  std::string_view key;
  std::string_view range_end;

  bool Contains(std::string_view point) const {
    if (range_end.empty()) return point == key;
    if (range_end == std::string_view("\0", 1)) return point >= key;
    return point >= key && point < range_end;
  }
};

// The keys one branch of a txn writes: put keys, and delete ranges.
struct WriteSet {
  std::set<std::string_view> puts;
  std::vector<Interval> deletes;

  bool Deletes(std::string_view key) const {
    for (const Interval& interval : deletes) {
      if (interval.Contains(key)) return true;
    }
    return false;
  }

  // True when `interval` covers a key of `puts`: the smallest put key at or after its start is
  // inside it exactly when any is.
  bool PutsIn(const Interval& interval) const {
    auto it = puts.lower_bound(interval.key);
    return it != puts.end() && interval.Contains(*it);
  }
};

// Fills `out` with the writes of `ops` (nested txns included) and fails if one key would be
// written twice. The two branches of a nested txn exclude each other, so a key put on both of
// them is fine; anything else written twice, or put inside a range deleted on the same path, is
// ambiguous and rejected, as etcd does.
absl::Status CollectWrites(const google::protobuf::RepeatedPtrField<RequestOp>& ops,
                           WriteSet* out) {
  for (const RequestOp& op : ops) {
    if (op.has_request_delete_range()) {
      const auto& request = op.request_delete_range();
      out->deletes.push_back({request.key(), request.range_end()});
    }
  }
  for (const RequestOp& op : ops) {
    if (!op.has_request_txn()) continue;
    WriteSet success;
    WriteSet failure;
    if (auto status = CollectWrites(op.request_txn().success(), &success); !status.ok()) {
      return status;
    }
    if (auto status = CollectWrites(op.request_txn().failure(), &failure); !status.ok()) {
      return status;
    }
    // A delete in this nested txn covering a key an earlier sibling put would write that key
    // twice at one revision. etcd 3.4 lets it through and orders the two writes by
    // sub-revision; the store keeps one version per key and revision, so it refuses the txn.
    for (const WriteSet* branch : {&success, &failure}) {
      for (const Interval& interval : branch->deletes) {
        if (out->PutsIn(interval)) return DuplicateKeyError();
      }
    }
    for (std::string_view key : success.puts) {
      if (out->puts.contains(key) || out->Deletes(key)) return DuplicateKeyError();
    }
    for (std::string_view key : failure.puts) {
      const bool also_on_success = success.puts.contains(key);
      if ((out->puts.contains(key) && !also_on_success) || out->Deletes(key)) {
        return DuplicateKeyError();
      }
    }
    out->puts.insert(success.puts.begin(), success.puts.end());
    out->puts.insert(failure.puts.begin(), failure.puts.end());
    out->deletes.insert(out->deletes.end(), success.deletes.begin(), success.deletes.end());
    out->deletes.insert(out->deletes.end(), failure.deletes.begin(), failure.deletes.end());
  }
  for (const RequestOp& op : ops) {
    if (!op.has_request_put()) continue;
    std::string_view key = op.request_put().key();
    if (out->puts.contains(key) || out->Deletes(key)) return DuplicateKeyError();
    out->puts.insert(key);
  }
  return absl::OkStatus();
}

absl::Status ValidateOps(const google::protobuf::RepeatedPtrField<RequestOp>& ops,
                         int max_txn_ops) {
  if (ops.size() > max_txn_ops) return TooManyOpsError();
  for (const RequestOp& op : ops) {
    absl::Status status;
    switch (op.request_case()) {
      case RequestOp::kRequestRange:
        status = ValidateRange(op.request_range());
        break;
      case RequestOp::kRequestPut:
        status = ValidatePut(op.request_put());
        break;
      case RequestOp::kRequestDeleteRange:
        status = ValidateDeleteRange(op.request_delete_range());
        break;
      case RequestOp::kRequestTxn:
        status = ValidateTxn(op.request_txn(), max_txn_ops);
        break;
      case RequestOp::REQUEST_NOT_SET:
        break;  // etcd skips an empty operation and answers an empty response for it
    }
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateRange(const etcdserverpb::RangeRequest& request) {
  if (request.key().empty()) return EmptyKeyError();
  return absl::OkStatus();
}

absl::Status ValidatePut(const etcdserverpb::PutRequest& request) {
  if (request.key().empty()) return EmptyKeyError();
  if (request.ignore_value() && !request.value().empty()) return ValueProvidedError();
  if (request.ignore_lease() && request.lease() != 0) return LeaseProvidedError();
  return absl::OkStatus();
}

absl::Status ValidateDeleteRange(const etcdserverpb::DeleteRangeRequest& request) {
  if (request.key().empty()) return EmptyKeyError();
  return absl::OkStatus();
}

absl::Status ValidateTxn(const etcdserverpb::TxnRequest& request, int max_txn_ops) {
  if (request.compare_size() > max_txn_ops) return TooManyOpsError();
  for (const etcdserverpb::Compare& compare : request.compare()) {
    if (compare.key().empty()) return EmptyKeyError();
  }
  if (auto status = ValidateOps(request.success(), max_txn_ops); !status.ok()) return status;
  if (auto status = ValidateOps(request.failure(), max_txn_ops); !status.ok()) return status;
  WriteSet success;
  if (auto status = CollectWrites(request.success(), &success); !status.ok()) return status;
  WriteSet failure;
  return CollectWrites(request.failure(), &failure);
}

absl::Status ValidateAlarm(const etcdserverpb::AlarmRequest& request) {
  if (!etcdserverpb::AlarmType_IsValid(request.alarm())) {
    return absl::InvalidArgumentError("raftkv: unknown alarm type");
  }
  switch (request.action()) {
    case etcdserverpb::AlarmRequest::GET:
    case etcdserverpb::AlarmRequest::DEACTIVATE:
      return absl::OkStatus();
    case etcdserverpb::AlarmRequest::ACTIVATE:
      // NOSPACE is the one alarm raftkv acts on; a CORRUPT alarm would promise a corruption
      // check that does not exist, and NONE is no alarm at all.
      if (request.alarm() != etcdserverpb::NOSPACE) {
        return absl::InvalidArgumentError("raftkv: only the NOSPACE alarm can be raised");
      }
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError("raftkv: unknown alarm action");
  }
}

absl::Status ValidateRequest(const kvpb::Request& request, int max_txn_ops) {
  switch (request.op_case()) {
    case kvpb::Request::kPut:
      return ValidatePut(request.put());
    case kvpb::Request::kDeleteRange:
      return ValidateDeleteRange(request.delete_range());
    case kvpb::Request::kTxn:
      return ValidateTxn(request.txn(), max_txn_ops);
    case kvpb::Request::kCompaction:
    case kvpb::Request::kLeaseGrant:
    case kvpb::Request::kLeaseRevoke:
      return absl::OkStatus();
    case kvpb::Request::kAlarm:
      return ValidateAlarm(request.alarm());
    case kvpb::Request::OP_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("raftkv: replicated request carries no operation");
}

}  // namespace raftkv::kv
