// Sequential specifications that the linearizability checker judges histories against.
//
// A Model says, for one state and one operation, whether the operation's recorded outcome is
// possible in that state and what the state becomes. It may also split a history into parts
// that can be checked independently (P-compositionality, Herlihy & Wing 1990: a history is
// linearizable iff each per-object sub-history is), which is what makes large histories cheap.
//
// Models are immutable after construction and safe to share between threads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "lincheck/history.h"

namespace raftkv::lincheck {

// A model state as canonical bytes: two states are the same iff their encodings are equal. A
// byte string keeps the checker's memo table generic and cheap to hash.
using State = std::string;

// A set of operations that can be checked on its own.
struct Partition {
  std::string label;        // what the operations share, e.g. `key "k1"`; for messages
  std::vector<size_t> ops;  // indices into the history, in increasing order
};

class Model {
 public:
  virtual ~Model() = default;

  virtual std::string Name() const = 0;

  virtual State Init() const = 0;

  // Applies `op` to `state`. Returns false if `op`'s recorded outcome is impossible in `state`
  // (then `*next` is unspecified). An op with status kUnknown carries no outcome, so it is
  // always possible; it still changes the state the way it would have.
  // REQUIRES: op.status != kFailed.
  virtual bool Step(const State& state, const Operation& op, State* next) const = 0;

  // True if `op` leaves the state unchanged in every state where it is possible (a read, a
  // compare-and-set that did not swap). The checker places such operations greedily. The
  // default, false, is always safe.
  virtual bool IsReadOnly(const Operation& op) const { return false; }

  // Equality and hashing of states. The defaults compare and hash the canonical bytes; a model
  // only overrides them if its encoding is not canonical.
  virtual bool StatesEqual(const State& a, const State& b) const { return a == b; }
  virtual size_t HashState(const State& state) const;

  // Splits `history` into independently checkable parts. The default is one part holding
  // every operation.
  virtual std::vector<Partition> PartitionHistory(const History& history) const;

  // A readable rendering of a state for failure reports.
  virtual std::string DescribeState(const State& state) const = 0;
};

// One register, the semantics of Jepsen's etcd tests: the key of each operation is ignored.
// Initially there is no value. get returns the current value (nullopt = none); put sets it;
// cas(a, b) swaps to b iff the value is a and reports whether it did; append and delete act
// on the one value.
std::unique_ptr<Model> NewRegisterModel();

struct KvModelOptions {
  // porcupine's key-value histories start every key at "" and read "" for a key never
  // written; with this set, an absent key and an empty value are the same thing.
  bool absent_reads_as_empty = false;
  // Split the history per key. Off, the state is the whole map (slower, same verdicts); kept
  // to cross-check the per-key split.
  bool partition_by_key = true;
};

// A map from key to value with get / put / append / cas / delete per key, each operation
// acting on its own key only.
std::unique_ptr<Model> NewKvModel(KvModelOptions options = {});

}  // namespace raftkv::lincheck
