#include "lincheck/history.h"

#include <cassert>
#include <utility>

#include "absl/strings/escaping.h"
#include "fmt/core.h"

namespace raftkv::lincheck {
namespace {

std::string Quote(const std::optional<std::string>& value) {
  if (!value.has_value()) return "nil";
  return fmt::format("\"{}\"", absl::CEscape(*value));
}

Operation NewOperation(int64_t client_id, OpKind kind, std::string key) {
  Operation op;
  op.client_id = client_id;
  op.kind = kind;
  op.key = std::move(key);
  return op;
}

}  // namespace

std::string_view OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kGet:
      return "get";
    case OpKind::kPut:
      return "put";
    case OpKind::kAppend:
      return "append";
    case OpKind::kCas:
      return "cas";
    case OpKind::kDelete:
      return "delete";
  }
  return "?";
}

std::string_view OpStatusName(OpStatus status) {
  switch (status) {
    case OpStatus::kOk:
      return "ok";
    case OpStatus::kFailed:
      return "fail";
    case OpStatus::kUnknown:
      return "info";
  }
  return "?";
}

std::string DescribeOperation(const Operation& op) {
  std::string args;
  switch (op.kind) {
    case OpKind::kGet:
    case OpKind::kDelete:
      break;
    case OpKind::kPut:
    case OpKind::kAppend:
      args = fmt::format(" {}", Quote(op.value));
      break;
    case OpKind::kCas:
      args = fmt::format(" {}->{}", Quote(op.expected), Quote(op.value));
      break;
  }
  std::string outcome;
  switch (op.status) {
    case OpStatus::kOk:
      if (op.kind == OpKind::kGet) outcome = fmt::format(" = {}", Quote(op.output));
      if (op.kind == OpKind::kCas) outcome = op.swapped ? " = swapped" : " = unchanged";
      return fmt::format("c{} {} {}{}{} [{},{}]", op.client_id, OpKindName(op.kind), Quote(op.key),
                         args, outcome, op.call, op.ret);
    case OpStatus::kFailed:
      outcome = " = failed";
      break;
    case OpStatus::kUnknown:
      outcome = " = unknown";
      break;
  }
  return fmt::format("c{} {} {}{}{} [{},?]", op.client_id, OpKindName(op.kind), Quote(op.key), args,
                     outcome, op.call);
}

HistoryBuilder::OpId HistoryBuilder::Invoke(Operation op) {
  op.call = next_seq_++;
  op.status = OpStatus::kUnknown;
  ops_.push_back(std::move(op));
  open_.push_back(true);
  return ops_.size() - 1;
}

HistoryBuilder::OpId HistoryBuilder::InvokeGet(int64_t client_id, std::string key) {
  return Invoke(NewOperation(client_id, OpKind::kGet, std::move(key)));
}

HistoryBuilder::OpId HistoryBuilder::InvokePut(int64_t client_id, std::string key,
                                               std::string value) {
  Operation op = NewOperation(client_id, OpKind::kPut, std::move(key));
  op.value = std::move(value);
  return Invoke(std::move(op));
}

HistoryBuilder::OpId HistoryBuilder::InvokeAppend(int64_t client_id, std::string key,
                                                  std::string value) {
  Operation op = NewOperation(client_id, OpKind::kAppend, std::move(key));
  op.value = std::move(value);
  return Invoke(std::move(op));
}

HistoryBuilder::OpId HistoryBuilder::InvokeCas(int64_t client_id, std::string key,
                                               std::optional<std::string> expected,
                                               std::string value) {
  Operation op = NewOperation(client_id, OpKind::kCas, std::move(key));
  op.expected = std::move(expected);
  op.value = std::move(value);
  return Invoke(std::move(op));
}

HistoryBuilder::OpId HistoryBuilder::InvokeDelete(int64_t client_id, std::string key) {
  return Invoke(NewOperation(client_id, OpKind::kDelete, std::move(key)));
}

void HistoryBuilder::Complete(OpId id, OpStatus status) {
  assert(id < ops_.size() && open_[id] && "completing an operation that is not open");
  open_[id] = false;
  ops_[id].status = status;
  ops_[id].ret = next_seq_++;
}

void HistoryBuilder::Ok(OpId id) {
  assert(ops_[id].kind != OpKind::kGet && ops_[id].kind != OpKind::kCas);
  Complete(id, OpStatus::kOk);
}

void HistoryBuilder::OkGet(OpId id, std::optional<std::string> value) {
  assert(ops_[id].kind == OpKind::kGet);
  ops_[id].output = std::move(value);
  Complete(id, OpStatus::kOk);
}

void HistoryBuilder::OkCas(OpId id, bool swapped) {
  assert(ops_[id].kind == OpKind::kCas);
  ops_[id].swapped = swapped;
  Complete(id, OpStatus::kOk);
}

void HistoryBuilder::Fail(OpId id) { Complete(id, OpStatus::kFailed); }

void HistoryBuilder::Unknown(OpId id) { Complete(id, OpStatus::kUnknown); }

History HistoryBuilder::Finish() && { return std::move(ops_); }

}  // namespace raftkv::lincheck
