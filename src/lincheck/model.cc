#include "lincheck/model.h"

#include <cassert>
#include <cstring>
#include <map>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/escaping.h"
#include "fmt/core.h"

namespace raftkv::lincheck {
namespace {

std::string QuoteValue(const std::optional<std::string>& value) {
  if (!value.has_value()) return "nil";
  return fmt::format("\"{}\"", absl::CEscape(*value));
}

// What an operation does to the value of its key.
enum class Effect {
  kImpossible,  // the recorded outcome cannot happen
  kUnchanged,
  kSet,     // value becomes op.value
  kAppend,  // value becomes (value or "") + op.value
  kErase,   // the key becomes absent
};

// A key's value seen in place: nullopt when the key is absent.
using ValueView = std::optional<std::string_view>;

ValueView View(const std::optional<std::string>& value) {
  return value.has_value() ? ValueView(*value) : std::nullopt;
}

// Reads and compare-and-sets that did not swap observe the value without changing it.
bool ObservesOnly(const Operation& op) {
  if (op.status != OpStatus::kOk) return false;
  return op.kind == OpKind::kGet || (op.kind == OpKind::kCas && !op.swapped);
}

// The rules shared by both models for one key. They work on views of the encoded state so that
// rejecting an operation, the most common outcome during a search, copies nothing.
// `absent_is_empty` folds "" into "absent", so both spellings compare and encode the same way.
class ValueRules {
 public:
  explicit ValueRules(bool absent_is_empty) : absent_is_empty_(absent_is_empty) {}

  // REQUIRES: `current` is normalized (never "" when absent_is_empty).
  Effect Apply(const Operation& op, ValueView current) const {
    assert(op.status != OpStatus::kFailed);
    const bool observed = op.status == OpStatus::kOk;
    switch (op.kind) {
      case OpKind::kGet:
        return !observed || Normalize(View(op.output)) == current ? Effect::kUnchanged
                                                                  : Effect::kImpossible;
      case OpKind::kPut:
        return SetTo(op.value);
      case OpKind::kAppend:
        if (op.value.empty() && (current.has_value() || absent_is_empty_)) {
          return Effect::kUnchanged;
        }
        return Effect::kAppend;
      case OpKind::kCas: {
        const bool matches = Normalize(View(op.expected)) == current;
        if (observed && matches != op.swapped) return Effect::kImpossible;
        return matches ? SetTo(op.value) : Effect::kUnchanged;
      }
      case OpKind::kDelete:
        return current.has_value() ? Effect::kErase : Effect::kUnchanged;
    }
    return Effect::kImpossible;
  }

 private:
  ValueView Normalize(ValueView value) const {
    if (absent_is_empty_ && value.has_value() && value->empty()) return std::nullopt;
    return value;
  }

  Effect SetTo(std::string_view value) const {
    return absent_is_empty_ && value.empty() ? Effect::kErase : Effect::kSet;
  }

  bool absent_is_empty_;
};

// State encoding: "" for no value, "=" + value otherwise.
class RegisterModel final : public Model {
 public:
  std::string Name() const override { return "register"; }

  State Init() const override { return State(); }

  bool Step(const State& state, const Operation& op, State* next) const override {
    const ValueView current =
        state.empty() ? std::nullopt : ValueView(std::string_view(state).substr(1));
    switch (rules_.Apply(op, current)) {
      case Effect::kImpossible:
        return false;
      case Effect::kUnchanged:
        *next = state;
        return true;
      case Effect::kSet:
        next->clear();
        next->push_back('=');
        next->append(op.value);
        return true;
      case Effect::kAppend:
        if (state.empty()) {
          next->clear();
          next->push_back('=');
        } else {
          *next = state;
        }
        next->append(op.value);
        return true;
      case Effect::kErase:
        next->clear();
        return true;
    }
    return false;
  }

  bool IsReadOnly(const Operation& op) const override { return ObservesOnly(op); }

  std::string DescribeState(const State& state) const override {
    return state.empty() ? "nil" : QuoteValue(state.substr(1));
  }

 private:
  ValueRules rules_{/*absent_is_empty=*/false};
};

// State encoding: the present keys in increasing order, each as
// [u32 key size][key][u32 value size][value] (host byte order; states never leave the process).
class KvModel final : public Model {
 public:
  explicit KvModel(KvModelOptions options)
      : options_(options), rules_(options.absent_reads_as_empty) {}

  std::string Name() const override {
    return options_.partition_by_key ? "key-value (per key)" : "key-value (whole map)";
  }

  State Init() const override { return State(); }

  bool Step(const State& state, const Operation& op, State* next) const override {
    // Find op.key's entry [pos, entry_end), or the position where it would be inserted.
    size_t pos = 0;
    size_t entry_end = 0;
    ValueView current;
    while (pos < state.size()) {
      const std::string_view entry_key = ReadField(state, pos);
      const size_t value_pos = pos + sizeof(uint32_t) + entry_key.size();
      const std::string_view entry_value = ReadField(state, value_pos);
      if (entry_key == op.key) {
        current = entry_value;
        entry_end = value_pos + sizeof(uint32_t) + entry_value.size();
        break;
      }
      if (entry_key > op.key) break;
      pos = value_pos + sizeof(uint32_t) + entry_value.size();
    }
    if (!current.has_value()) entry_end = pos;

    const Effect effect = rules_.Apply(op, current);
    if (effect == Effect::kImpossible) return false;
    if (effect == Effect::kUnchanged) {
      *next = state;
      return true;
    }
    next->clear();
    next->append(state, 0, pos);
    if (effect == Effect::kSet || effect == Effect::kAppend) {
      const std::string_view prefix =
          effect == Effect::kAppend ? current.value_or(std::string_view()) : std::string_view();
      AppendField(op.key, next);
      AppendSize(prefix.size() + op.value.size(), next);
      next->append(prefix);
      next->append(op.value);
    }
    next->append(state, entry_end, std::string::npos);
    return true;
  }

  bool IsReadOnly(const Operation& op) const override { return ObservesOnly(op); }

  std::vector<Partition> PartitionHistory(const History& history) const override {
    if (!options_.partition_by_key) return Model::PartitionHistory(history);
    std::map<std::string_view, std::vector<size_t>> by_key;  // ordered: stable reports
    for (size_t i = 0; i < history.size(); ++i) by_key[history[i].key].push_back(i);
    std::vector<Partition> partitions;
    partitions.reserve(by_key.size());
    for (auto& [key, ops] : by_key) {
      partitions.push_back(
          {.label = fmt::format("key {}", QuoteValue(std::string(key))), .ops = std::move(ops)});
    }
    return partitions;
  }

  std::string DescribeState(const State& state) const override {
    std::string out = "{";
    size_t pos = 0;
    while (pos < state.size()) {
      std::string_view key = ReadField(state, pos);
      pos += sizeof(uint32_t) + key.size();
      std::string_view value = ReadField(state, pos);
      pos += sizeof(uint32_t) + value.size();
      if (out.size() > 1) out += ", ";
      out += fmt::format("{}: {}", QuoteValue(std::string(key)), QuoteValue(std::string(value)));
    }
    return out + "}";
  }

 private:
  static std::string_view ReadField(const State& state, size_t pos) {
    uint32_t size;
    assert(pos + sizeof(size) <= state.size());
    std::memcpy(&size, state.data() + pos, sizeof(size));
    return std::string_view(state).substr(pos + sizeof(size), size);
  }

  static void AppendSize(size_t size, State* out) {
    assert(size <= UINT32_MAX);
    const auto size32 = static_cast<uint32_t>(size);
    out->append(reinterpret_cast<const char*>(&size32), sizeof(size32));
  }

  static void AppendField(std::string_view field, State* out) {
    AppendSize(field.size(), out);
    out->append(field);
  }

  KvModelOptions options_;
  ValueRules rules_;
};

}  // namespace

size_t Model::HashState(const State& state) const { return absl::Hash<State>{}(state); }

std::vector<Partition> Model::PartitionHistory(const History& history) const {
  Partition all{.label = "whole history", .ops = {}};
  all.ops.resize(history.size());
  for (size_t i = 0; i < history.size(); ++i) all.ops[i] = i;
  std::vector<Partition> partitions;
  partitions.push_back(std::move(all));
  return partitions;
}

std::unique_ptr<Model> NewRegisterModel() { return std::make_unique<RegisterModel>(); }

std::unique_ptr<Model> NewKvModel(KvModelOptions options) {
  return std::make_unique<KvModel>(options);
}

}  // namespace raftkv::lincheck
