// The store's transactions: compares, branch choice, and applying the chosen branch.
#include <string_view>
#include <vector>

#include "kv/invariant.h"
#include "kv/store.h"
#include "kv/validate.h"

namespace raftkv::kv {
namespace {

using etcdserverpb::Compare;
using etcdserverpb::RequestOp;
using etcdserverpb::TxnRequest;

template <typename T>
int ThreeWay(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

template <typename Pred>
bool AllOps(const TxnRequest& txn, Pred pred) {
  for (const auto* branch : {&txn.success(), &txn.failure()}) {
    for (const RequestOp& op : *branch) {
      if (op.has_request_txn()) {
        if (!AllOps(op.request_txn(), pred)) return false;
      } else if (!pred(op)) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

bool TxnIsReadOnly(const TxnRequest& txn) {
  return AllOps(txn, [](const RequestOp& op) {
    return !op.has_request_put() && !op.has_request_delete_range();
  });
}

bool TxnIsSerializable(const TxnRequest& txn) {
  return AllOps(txn, [](const RequestOp& op) {
    return !op.has_request_range() || op.request_range().serializable();
  });
}

absl::StatusOr<etcdserverpb::TxnResponse> Store::ReadTxn(const TxnRequest& txn) const {
  if (!TxnIsReadOnly(txn)) {
    return absl::InvalidArgumentError("raftkv: ReadTxn given a txn that writes");
  }
  // The ops limit is the API's (it checked before asking); the store serves what it is given.
  if (auto status = ValidateTxn(txn, kNoTxnOpsLimit); !status.ok()) return status;
  std::vector<bool> path;
  ChoosePath(txn, &path);
  size_t step = 0;
  if (auto status = CheckPath(txn, path, &step); !status.ok()) return status;
  step = 0;
  etcdserverpb::TxnResponse response;
  ReadBranch(txn, path, &step, &response);
  return response;
}

void Store::ReadBranch(const TxnRequest& txn, const std::vector<bool>& path, size_t* step,
                       etcdserverpb::TxnResponse* response) const {
  RAFTKV_KV_INVARIANT(*step < path.size());
  const bool succeeded = path[(*step)++];
  response->set_succeeded(succeeded);
  for (const RequestOp& op : succeeded ? txn.success() : txn.failure()) {
    etcdserverpb::ResponseOp* result = response->add_responses();
    if (op.has_request_range()) {
      const auto& request = op.request_range();
      auto* range = result->mutable_response_range();
      *range = RangeAt(request, request.revision() > 0 ? request.revision() : meta_.revision);
      range->mutable_header()->set_revision(meta_.revision);
    } else if (op.has_request_txn()) {
      ReadBranch(op.request_txn(), path, step, result->mutable_response_txn());
    }
  }
  response->mutable_header()->set_revision(meta_.revision);
}

bool Store::CompareHolds(const Compare& compare) const {
  auto holds = [&compare](const Version& version) {
    int order = 0;
    // Dispatch on the target, never on which oneof member is set: clients send zero values
    // explicitly (mod("k") > "0" arrives as mod_revision: 0).
    switch (compare.target()) {
      case Compare::VERSION:
        order = ThreeWay(version.version, compare.version());
        break;
      case Compare::CREATE:
        order = ThreeWay(version.create_revision, compare.create_revision());
        break;
      case Compare::MOD:
        order = ThreeWay(version.mod_revision, compare.mod_revision());
        break;
      case Compare::VALUE:
        order = ThreeWay(std::string_view(version.value), std::string_view(compare.value()));
        break;
      case Compare::LEASE:
        order = ThreeWay(version.lease, compare.lease());
        break;
      default:
        return false;
    }
    switch (compare.result()) {
      case Compare::EQUAL:
        return order == 0;
      case Compare::NOT_EQUAL:
        return order != 0;
      case Compare::GREATER:
        return order > 0;
      case Compare::LESS:
        return order < 0;
      default:
        return false;
    }
  };

  bool any = false;
  bool all = true;
  const EtcdRange range(compare.key(), compare.range_end());
  engine_->Scan(range.range(), kLatest, [&](const std::string&, const Version& latest) {
    any = true;
    all = holds(latest);
    return all;
  });
  if (!all) return false;
  if (any) return true;
  // A missing key compares as all zeros, except that its value is unknown rather than empty:
  // a value compare against a missing key always fails (etcd's rule).
  if (compare.target() == Compare::VALUE) return false;
  return holds(Version{});
}

void Store::ChoosePath(const TxnRequest& txn, std::vector<bool>* path) const {
  bool succeeded = true;
  for (const Compare& compare : txn.compare()) {
    if (!CompareHolds(compare)) {
      succeeded = false;
      break;
    }
  }
  path->push_back(succeeded);
  for (const RequestOp& op : succeeded ? txn.success() : txn.failure()) {
    if (op.has_request_txn()) ChoosePath(op.request_txn(), path);
  }
}

absl::Status Store::CheckPath(const TxnRequest& txn, const std::vector<bool>& path,
                              size_t* step) const {
  const bool succeeded = path[(*step)++];
  for (const RequestOp& op : succeeded ? txn.success() : txn.failure()) {
    absl::Status status;
    switch (op.request_case()) {
      case RequestOp::kRequestRange:
        status = CheckReadRevision(op.request_range().revision());
        break;
      case RequestOp::kRequestPut:
        status = CheckPut(op.request_put());
        break;
      case RequestOp::kRequestTxn:
        status = CheckPath(op.request_txn(), path, step);
        break;
      case RequestOp::kRequestDeleteRange:
      case RequestOp::REQUEST_NOT_SET:
        break;
    }
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

void Store::ApplyTxn(WriteBatch& batch, const TxnRequest& txn, const std::vector<bool>& path,
                     size_t* step, etcdserverpb::TxnResponse* response) {
  RAFTKV_KV_INVARIANT(*step < path.size());
  const bool succeeded = path[(*step)++];
  response->set_succeeded(succeeded);
  for (const RequestOp& op : succeeded ? txn.success() : txn.failure()) {
    etcdserverpb::ResponseOp* result = response->add_responses();
    switch (op.request_case()) {
      case RequestOp::kRequestRange: {
        const auto& request = op.request_range();
        // Reads inside a txn see the txn's earlier writes.
        const int64_t revision = request.revision() > 0 ? request.revision() : batch.visible();
        auto* range = result->mutable_response_range();
        *range = RangeAt(request, revision);
        range->mutable_header()->set_revision(batch.visible());
        break;
      }
      case RequestOp::kRequestPut:
        Put(batch, op.request_put(), result->mutable_response_put());
        break;
      case RequestOp::kRequestDeleteRange:
        DeleteRange(batch, op.request_delete_range(), result->mutable_response_delete_range());
        break;
      case RequestOp::kRequestTxn:
        ApplyTxn(batch, op.request_txn(), path, step, result->mutable_response_txn());
        break;
      case RequestOp::REQUEST_NOT_SET:
        break;
    }
  }
  response->mutable_header()->set_revision(batch.visible());
}

}  // namespace raftkv::kv
