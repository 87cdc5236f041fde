// Client histories for the linearizability checker: what each client asked for, what it was
// told, and when.
//
// A history is recorded by whoever drives clients (the simulator, the multi-process tests) and
// judged afterwards by the checker in checker.h. Operations are plain values; nothing here is
// shared between threads, so the usual rules for value types apply (a HistoryBuilder is not
// thread-safe: give it one owner or guard it).
//
// Time. `call` and `ret` are points on one totally ordered axis chosen by the recorder: event
// sequence numbers (one counter bumped at every invoke and every completion, as HistoryBuilder
// does) or virtual-clock nanoseconds. Operation a happens before b iff a.ret < b.call; equal
// values count as overlapping, which can only make the checker more permissive, never report a
// violation that is not there.
//
// Outcomes. kOk: the client got an answer, recorded in the output fields. kFailed: the
// operation definitely had no effect (rejected before it was proposed, for example) and the
// checker ignores it. kUnknown: the client gave up (timeout, lost connection) and the operation
// may have taken effect at any point after its call, or never; its `ret` and outputs are
// ignored. A compare-and-set whose comparison did not hold is kOk with `swapped == false`, not
// kFailed: it observed the value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace raftkv::lincheck {

// What the client asked for. A single register (Jepsen's etcd tests) is a key-value map with
// one key: its read / write / cas are kGet / kPut / kCas on that key (by convention "").
enum class OpKind : uint8_t {
  kGet,     // output: the value, or nullopt if the key is absent
  kPut,     // sets key to `value`
  kAppend,  // key becomes (current value or "") + `value`
  kCas,     // if current == `expected` (nullopt: key absent) set key to `value`; output: swapped
  kDelete,  // removes the key (no-op if absent)
};

enum class OpStatus : uint8_t {
  kOk,       // completed; the output fields hold what the client was told
  kFailed,   // definitely did not take effect; ignored by the checker
  kUnknown,  // may take effect at any point after `call`, or never
};

std::string_view OpKindName(OpKind kind);        // "get", "put", "append", "cas", "delete"
std::string_view OpStatusName(OpStatus status);  // "ok", "fail", "info"

struct Operation {
  int64_t client_id = 0;
  OpKind kind = OpKind::kGet;
  std::string key;

  // Inputs.
  std::string value;                    // kPut, kAppend: the value written; kCas: the new value
  std::optional<std::string> expected;  // kCas: the value compared against; nullopt = absent

  // Outcome.
  OpStatus status = OpStatus::kOk;
  std::optional<std::string> output;  // kGet with kOk: the value read; nullopt = absent
  bool swapped = false;               // kCas with kOk: whether the comparison held

  // Invariant: call <= ret when status != kUnknown.
  int64_t call = 0;
  int64_t ret = 0;
};

using History = std::vector<Operation>;

// A readable one-line rendering, e.g. `c3 cas "k" "a"->"b" = swapped [12,17]`.
std::string DescribeOperation(const Operation& op);

// Records a history as it happens, numbering events with one sequence counter.
//
//   HistoryBuilder h;
//   auto id = h.InvokePut(/*client_id=*/1, "k", "v");
//   ...
//   h.Ok(id);                 // or h.Fail(id) / h.Unknown(id)
//   History history = std::move(h).Finish();
//
// Operations still open at Finish() become kUnknown. Each Invoke*/Ok*/Fail/Unknown call takes
// the next sequence number, so the recorded order is the order of the calls.
class HistoryBuilder {
 public:
  using OpId = size_t;

  OpId InvokeGet(int64_t client_id, std::string key);
  OpId InvokePut(int64_t client_id, std::string key, std::string value);
  OpId InvokeAppend(int64_t client_id, std::string key, std::string value);
  OpId InvokeCas(int64_t client_id, std::string key, std::optional<std::string> expected,
                 std::string value);
  OpId InvokeDelete(int64_t client_id, std::string key);

  // Completions. REQUIRES: `id` is open and, for the typed variants, of the matching kind.
  void Ok(OpId id);  // put, append, delete
  void OkGet(OpId id, std::optional<std::string> value);
  void OkCas(OpId id, bool swapped);
  void Fail(OpId id);
  void Unknown(OpId id);

  // Number of operations invoked so far.
  size_t size() const { return ops_.size(); }

  History Finish() &&;

 private:
  OpId Invoke(Operation op);
  void Complete(OpId id, OpStatus status);

  History ops_;
  std::vector<bool> open_;
  int64_t next_seq_ = 1;
};

}  // namespace raftkv::lincheck
