#include "lincheck/checker.h"

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <limits>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/container/node_hash_map.h"
#include "absl/hash/hash.h"
#include "fmt/core.h"

namespace raftkv::lincheck {
namespace {

// Return time of an operation whose outcome is unknown: after every real event, so the search
// may place it anywhere after its call, including after everything else ("never").
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

// How often the search looks at the clock; a clock read per step would dominate small steps.
constexpr uint64_t kDeadlineCheckInterval = 1024;

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Bit words of an operation set; inline up to 256 operations so that most memo table entries
// need no allocation of their own.
using Words = absl::InlinedVector<uint64_t, 4>;

// A set of operations, with a hash kept up to date in O(1) per change (the XOR of one random
// word per member) so that the memo table never rehashes the whole set.
class OpSet {
 public:
  explicit OpSet(size_t n) : words_((n + 63) / 64, 0) {}

  void Flip(size_t i) {
    words_[i / 64] ^= uint64_t{1} << (i % 64);
    hash_ ^= SplitMix64(i);
  }
  uint64_t hash() const { return hash_; }
  const Words& words() const { return words_; }

  // Whether every member of `subset` is a member of this set.
  bool Contains(const Words& subset) const {
    for (size_t i = 0; i < words_.size(); ++i) {
      if ((subset[i] & ~words_[i]) != 0) return false;
    }
    return true;
  }

 private:
  Words words_;
  uint64_t hash_ = 0;
};

// Whether every member of `a` is a member of `b` (same word count).
bool IsSubset(const Words& a, const Words& b) {
  for (size_t i = 0; i < a.size(); ++i) {
    if ((a[i] & ~b[i]) != 0) return false;
  }
  return true;
}

// Memo table key: which operations with a known outcome are placed, and the state reached.
struct VisitedKey {
  size_t hash;
  Words known_placed;
  State state;
};

// Lookup key that borrows instead of copying, so a hit costs no allocation.
struct VisitedView {
  size_t hash;
  const Words* known_placed;
  const State* state;
};

struct VisitedHash {
  using is_transparent = void;
  size_t operator()(const VisitedKey& v) const { return v.hash; }
  size_t operator()(const VisitedView& v) const { return v.hash; }
};

struct VisitedEq {
  using is_transparent = void;
  const Model* model;
  bool operator()(const VisitedKey& a, const VisitedKey& b) const {
    return a.hash == b.hash && a.known_placed == b.known_placed &&
           model->StatesEqual(a.state, b.state);
  }
  bool operator()(const VisitedKey& a, const VisitedView& b) const {
    return a.hash == b.hash && a.known_placed == *b.known_placed &&
           model->StatesEqual(a.state, *b.state);
  }
  bool operator()(const VisitedView& a, const VisitedKey& b) const { return (*this)(b, a); }
};

// The search over one partition. Calls and returns form a doubly linked list in time order;
// placing an operation unlinks its call and return ("lifting"), and backtracking relinks them
// in reverse order, so both are O(1).
//
// Two refinements for operations with an unknown outcome, which Jepsen-style histories have
// many of and which otherwise make the search exponential in their number:
//  - Candidates with a known outcome are tried first. An unknown operation never has to be
//    placed (it may never have happened), so it is only worth placing once nothing else fits.
//  - Dominance in the memo table. Two search nodes that placed the same known operations and
//    reached the same state differ only in which unknown operations they used up; the one that
//    used fewer can do everything the other can, because an unused unknown operation constrains
//    nothing (its return is at the end of time). So a node is pruned if a node with the same
//    known set and state, and a subset of its unknown set, was already expanded. Without
//    unknown operations this is exactly the classic (set, state) memoization.
class PartitionSearch {
 public:
  enum class Outcome { kLinearizable, kNotLinearizable, kTimedOut };

  PartitionSearch(const Model& model, const History& history, std::vector<size_t> ops,
                  absl::Time deadline)
      : model_(model),
        history_(history),
        ops_(std::move(ops)),
        deadline_(deadline),
        visited_(0, VisitedHash{}, VisitedEq{&model}) {
    BuildEventList();
  }

  Outcome Run() {
    State scratch = model_.Init();
    const State* state = Claim(&scratch);
    NoteProgress(*state);
    int entry = -1;
    bool unknown_pass = false;  // false: trying known-outcome candidates; true: unknown ones
    bool new_node = true;       // just arrived at a node: look for a forced move first
    uint64_t steps = 0;
    while (required_left_ > 0) {
      if (++steps % kDeadlineCheckInterval == 0 && absl::Now() > deadline_) {
        return Outcome::kTimedOut;
      }
      if (new_node) {
        new_node = false;
        int forced = -1;
        const State* next_state = nullptr;
        if (FindForcedMove(*state, &scratch, &forced, &next_state)) {
          if (forced < 0) {
            entry = next_[head_];
            unknown_pass = false;
            continue;
          }
          Place(forced, /*forced=*/true, /*unknown_pass=*/false, next_state, &state);
          new_node = true;
          continue;
        }
        // A forced move leads to a node already explored: this node fails as well.
        if (!Backtrack(&state, &entry, &unknown_pass)) return Outcome::kNotLinearizable;
        continue;
      }
      assert(entry >= 0 && "a pending call always precedes its own return");
      const Event& event = events_[entry];
      if (event.is_call) {
        const State* next_state = nullptr;
        if (unknown_[event.op] == unknown_pass &&
            (next_state = TryPlace(event.op, *state, &scratch)) != nullptr) {
          Place(entry, /*forced=*/false, unknown_pass, next_state, &state);
          new_node = true;
          continue;
        }
        entry = next_[entry];
      } else if (!unknown_pass) {
        // No known-outcome candidate fits here; see whether an unknown one helps.
        unknown_pass = true;
        entry = next_[head_];
      } else if (!Backtrack(&state, &entry, &unknown_pass)) {
        // A pending operation returned before it could be placed, at every choice.
        return Outcome::kNotLinearizable;
      }
    }
    return Outcome::kLinearizable;
  }

  uint64_t nodes_expanded() const { return visited_nodes_; }

  FailureReport Report(const std::string& label) const {
    FailureReport report;
    report.partition_label = label;
    report.partition_size = ops_.size();
    for (size_t op : best_placed_) report.linearized.push_back(ops_[op]);
    for (size_t op : best_stuck_) report.stuck.push_back(ops_[op]);
    report.state_after = best_state_;
    report.state_description = model_.DescribeState(best_state_);
    return report;
  }

 private:
  struct Event {
    size_t op;  // index into ops_
    bool is_call;
    int64_t time;
    int match;  // for a call, its return event
  };
  struct Frame {
    int call_event;
    bool forced;                // the only move worth trying at its node (see FindForcedMove)
    const State* state_before;  // owned by visited_
    bool unknown_pass;
  };

  void BuildEventList() {
    size_t known = 0;
    size_t unknown = 0;
    unknown_.resize(ops_.size());
    set_index_.resize(ops_.size());
    events_.reserve(2 * ops_.size());
    for (size_t i = 0; i < ops_.size(); ++i) {
      const Operation& op = history_[ops_[i]];
      unknown_[i] = op.status == OpStatus::kUnknown;
      set_index_[i] = unknown_[i] ? unknown++ : known++;
      assert((unknown_[i] || op.call <= op.ret) && "an operation returned before it was called");
      events_.push_back({.op = i, .is_call = true, .time = op.call, .match = -1});
      events_.push_back(
          {.op = i, .is_call = false, .time = unknown_[i] ? kNever : op.ret, .match = -1});
    }
    known_count_ = known;
    required_left_ = known;
    known_placed_ = OpSet(known);
    unknown_placed_ = OpSet(unknown);
    // Calls sort before returns at the same time: equal timestamps are treated as overlapping.
    std::sort(events_.begin(), events_.end(), [](const Event& a, const Event& b) {
      if (a.time != b.time) return a.time < b.time;
      if (a.is_call != b.is_call) return a.is_call;
      return a.op < b.op;
    });
    std::vector<int> call_of(ops_.size(), -1);
    for (size_t e = 0; e < events_.size(); ++e) {
      if (events_[e].is_call) {
        call_of[events_[e].op] = static_cast<int>(e);
      } else {
        events_[call_of[events_[e].op]].match = static_cast<int>(e);
      }
    }
    // Node events_.size() is the list head.
    head_ = static_cast<int>(events_.size());
    next_.resize(events_.size() + 1);
    prev_.resize(events_.size() + 1);
    int last = head_;
    for (int e = 0; e < head_; ++e) {
      next_[last] = e;
      prev_[e] = last;
      last = e;
    }
    next_[last] = -1;
  }

  // A read-only candidate (Model::IsReadOnly: a read, a cas that did not swap) that is possible
  // in the current state can be placed first without loss: any linearization from here that
  // places it later can place it now instead, since its call precedes every pending return
  // and an operation that never changes the state leaves every other step as it was. So when
  // such a candidate exists it is the only move tried at this node. (Being a no-op in the
  // current state is not enough: a put of the current value would change a later state.)
  //
  // Returns true with *forced = the candidate's call event and *next_state claimed, or with
  // *forced = -1 if there is none. Returns false if the candidate's node was already explored:
  // explored nodes that are not ancestors all failed, so this node fails too.
  bool FindForcedMove(const State& state, State* scratch, int* forced, const State** next_state) {
    *forced = -1;
    for (int e = next_[head_]; e >= 0 && events_[e].is_call; e = next_[e]) {
      const size_t op = events_[e].op;
      if (unknown_[op] || !model_.IsReadOnly(history_[ops_[op]])) continue;
      if (!model_.Step(state, history_[ops_[op]], scratch)) continue;
      assert(model_.StatesEqual(*scratch, state) && "a read-only operation changed the state");
      SetOf(op).Flip(set_index_[op]);
      *next_state = Claim(scratch);
      if (*next_state == nullptr) {
        Unplace(op);
        return false;
      }
      *forced = e;
      return true;
    }
    return true;
  }

  // Moves to the child node reached by placing `call`'s operation (already claimed).
  void Place(int call, bool forced, bool unknown_pass, const State* next_state,
             const State** state) {
    stack_.push_back({call, forced, *state, unknown_pass});
    *state = next_state;
    Lift(call);
    if (!unknown_[events_[call].op]) --required_left_;
    NoteProgress(**state);
  }

  // Undoes choices until one leaves alternatives to try at its node: *entry is where to
  // continue. Returns false when the root has no alternatives left.
  bool Backtrack(const State** state, int* entry, bool* unknown_pass) {
    while (!stack_.empty()) {
      const Frame frame = stack_.back();
      stack_.pop_back();
      const size_t op = events_[frame.call_event].op;
      Unplace(op);
      Unlift(frame.call_event);
      if (!unknown_[op]) ++required_left_;
      *state = frame.state_before;
      if (!frame.forced) {
        *entry = next_[frame.call_event];
        *unknown_pass = frame.unknown_pass;
        return true;
      }
    }
    return false;
  }

  OpSet& SetOf(size_t op) { return unknown_[op] ? unknown_placed_ : known_placed_; }
  void Unplace(size_t op) { SetOf(op).Flip(set_index_[op]); }

  // Records the current node (placed sets + `*state`) as expanded and returns the memo
  // table's copy of the state, which stays put for the whole search (states are stored once and
  // only referred to afterwards). Returns nullptr if the node, or one that dominates it, was
  // expanded before. May move from `*state`.
  const State* Claim(State* state) {
    const size_t hash = absl::HashOf(known_placed_.hash(), model_.HashState(*state));
    auto it = visited_.find(VisitedView{hash, &known_placed_.words(), state});
    if (it == visited_.end()) {
      it = visited_
               .emplace(VisitedKey{hash, known_placed_.words(), std::move(*state)},
                        UnknownSets{unknown_placed_.words()})
               .first;
    } else {
      for (const Words& used : it->second) {
        if (unknown_placed_.Contains(used)) return nullptr;
      }
      // Keep only the minimal sets: one that contains the new set is dominated by it, and
      // without pruning the scan above grows with every visit to a busy (known set, state).
      UnknownSets& sets = it->second;
      sets.erase(std::remove_if(
                     sets.begin(), sets.end(),
                     [&](const Words& used) { return IsSubset(unknown_placed_.words(), used); }),
                 sets.end());
      sets.push_back(unknown_placed_.words());
    }
    ++visited_nodes_;
    return &it->first.state;
  }

  // Steps the model and claims the node it leads to; nullptr if the model rejects the operation
  // or the node was explored (or dominated) before. `scratch` holds the candidate state.
  const State* TryPlace(size_t op, const State& state, State* scratch) {
    if (!model_.Step(state, history_[ops_[op]], scratch)) return nullptr;
    SetOf(op).Flip(set_index_[op]);
    const State* claimed = Claim(scratch);
    if (claimed == nullptr) Unplace(op);
    return claimed;
  }

  void Unlink(int e) {
    next_[prev_[e]] = next_[e];
    if (next_[e] >= 0) prev_[next_[e]] = prev_[e];
  }
  void Relink(int e) {
    next_[prev_[e]] = e;
    if (next_[e] >= 0) prev_[next_[e]] = e;
  }
  void Lift(int call) {
    Unlink(call);
    Unlink(events_[call].match);
  }
  void Unlift(int call) {
    Relink(events_[call].match);
    Relink(call);
  }

  // Remembers the point where the most known-outcome operations were placed, for the failure
  // report.
  void NoteProgress(const State& state) {
    const size_t placed_known = known_count_ - required_left_;
    if (have_best_ && placed_known <= best_known_) return;
    have_best_ = true;
    best_known_ = placed_known;
    best_placed_.clear();
    for (const Frame& frame : stack_) best_placed_.push_back(events_[frame.call_event].op);
    best_state_ = state;
    best_stuck_.clear();
    for (int e = next_[head_]; e >= 0 && events_[e].is_call; e = next_[e]) {
      best_stuck_.push_back(events_[e].op);
    }
  }

  const Model& model_;
  const History& history_;
  const std::vector<size_t> ops_;  // history indices of this partition's operations
  const absl::Time deadline_;

  std::vector<bool> unknown_;      // per op: outcome unknown
  std::vector<size_t> set_index_;  // per op: its index in known_placed_ or unknown_placed_
  std::vector<Event> events_;
  std::vector<int> next_;
  std::vector<int> prev_;
  int head_ = 0;
  size_t known_count_ = 0;
  size_t required_left_ = 0;  // operations with a known outcome not yet placed

  OpSet known_placed_{0};
  OpSet unknown_placed_{0};
  std::vector<Frame> stack_;
  uint64_t visited_nodes_ = 0;
  // For each (known set, state): the unknown sets it was expanded with.
  using UnknownSets = absl::InlinedVector<Words, 1>;
  // A node map: keys never move, so the search refers to states by pointer.
  absl::node_hash_map<VisitedKey, UnknownSets, VisitedHash, VisitedEq> visited_;

  bool have_best_ = false;
  size_t best_known_ = 0;
  std::vector<size_t> best_placed_;
  State best_state_;
  std::vector<size_t> best_stuck_;
};

// Operations the search must consider: failed ones never happened, and a read whose answer
// was lost neither changed nor observed anything.
std::vector<size_t> RelevantOps(const History& history, const std::vector<size_t>& ops) {
  std::vector<size_t> relevant;
  relevant.reserve(ops.size());
  for (size_t i : ops) {
    const Operation& op = history[i];
    if (op.status == OpStatus::kFailed) continue;
    if (op.status == OpStatus::kUnknown && op.kind == OpKind::kGet) continue;
    relevant.push_back(i);
  }
  return relevant;
}

}  // namespace

std::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kLinearizable:
      return "linearizable";
    case Verdict::kNotLinearizable:
      return "not linearizable";
    case Verdict::kUnknown:
      return "unknown";
  }
  return "?";
}

CheckResult CheckHistory(const Model& model, const History& history, const CheckOptions& options) {
  const absl::Time start = absl::Now();
  const absl::Time deadline = options.timeout == absl::InfiniteDuration() ? absl::InfiniteFuture()
                                                                          : start + options.timeout;
  CheckResult result;
  std::vector<Partition> partitions = model.PartitionHistory(history);
  for (Partition& partition : partitions) partition.ops = RelevantOps(history, partition.ops);
  // Smallest first: the first failure found is then the smallest failing partition, and a
  // violation in a small partition is reported without searching the big ones.
  std::stable_sort(
      partitions.begin(), partitions.end(),
      [](const Partition& a, const Partition& b) { return a.ops.size() < b.ops.size(); });
  result.partitions = partitions.size();
  for (Partition& partition : partitions) {
    PartitionSearch search(model, history, std::move(partition.ops), deadline);
    const PartitionSearch::Outcome outcome = search.Run();
    result.nodes_expanded += search.nodes_expanded();
    if (outcome == PartitionSearch::Outcome::kNotLinearizable) {
      result.verdict = Verdict::kNotLinearizable;
      result.failure = search.Report(partition.label);
      break;
    }
    if (outcome == PartitionSearch::Outcome::kTimedOut) {
      // The deadline is shared, so every later partition would time out too.
      result.verdict = Verdict::kUnknown;
      break;
    }
  }
  result.elapsed = absl::Now() - start;
  return result;
}

std::string FormatFailure(const Model& model, const History& history, const FailureReport& report,
                          size_t context_ops) {
  std::string out = fmt::format("failing partition: {} ({} operations, the smallest that fails)\n",
                                report.partition_label, report.partition_size);
  const size_t shown = std::min(context_ops, report.linearized.size());
  out += fmt::format("longest linearizable prefix: {} of {} operations", report.linearized.size(),
                     report.partition_size);
  out += shown == report.linearized.size() ? ":\n" : fmt::format(", the last {}:\n", shown);
  for (size_t i = report.linearized.size() - shown; i < report.linearized.size(); ++i) {
    out += fmt::format("  {}. {}\n", i + 1, DescribeOperation(history[report.linearized[i]]));
  }
  out += fmt::format("state after the prefix: {}\n", report.state_description);
  out += "operations that could go next, none of which leads to a linearization:\n";
  State ignored;
  for (size_t op : report.stuck) {
    const bool possible = model.Step(report.state_after, history[op], &ignored);
    out += fmt::format("  {}{}\n", DescribeOperation(history[op]),
                       possible ? "" : "   <- impossible in this state");
  }
  return out;
}

}  // namespace raftkv::lincheck
