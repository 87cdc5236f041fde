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

using Value = std::optional<std::string>;

std::string QuoteValue(const Value& value) {
  if (!value.has_value()) return "nil";
  return fmt::format("\"{}\"", absl::CEscape(*value));
}

// The rules shared by both models for one key. `absent_is_empty` folds "" into "absent" so that
// both spellings of an empty key compare and encode the same way.
class ValueRules {
 public:
  explicit ValueRules(bool absent_is_empty) : absent_is_empty_(absent_is_empty) {}

  Value Normalize(Value value) const {
    if (absent_is_empty_ && value.has_value() && value->empty()) return std::nullopt;
    return value;
  }

  // Applies `op` to `*value`; false if the op's recorded outcome cannot happen.
  bool Apply(const Operation& op, Value* value) const {
    assert(op.status != OpStatus::kFailed);
    const bool observed = op.status == OpStatus::kOk;
    switch (op.kind) {
      case OpKind::kGet:
        return !observed || Normalize(op.output) == *value;
      case OpKind::kPut:
        *value = Normalize(op.value);
        return true;
      case OpKind::kAppend:
        *value = Normalize(value->value_or("") + op.value);
        return true;
      case OpKind::kCas: {
        const bool matches = Normalize(op.expected) == *value;
        if (observed && matches != op.swapped) return false;
        if (matches) *value = Normalize(op.value);
        return true;
      }
      case OpKind::kDelete:
        value->reset();
        return true;
    }
    return false;
  }

 private:
  bool absent_is_empty_;
};

// State encoding: "" for no value, "=" + value otherwise.
class RegisterModel final : public Model {
 public:
  std::string Name() const override { return "register"; }

  State Init() const override { return State(); }

  bool Step(const State& state, const Operation& op, State* next) const override {
    Value value;
    if (!state.empty()) value = state.substr(1);
    if (!rules_.Apply(op, &value)) return false;
    *next = value.has_value() ? "=" + *value : State();
    return true;
  }

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
    // Find op.key's entry, or where it would be inserted.
    size_t pos = 0;
    size_t entry_end = 0;
    Value value;
    while (pos < state.size()) {
      std::string_view entry_key = ReadField(state, pos);
      size_t value_pos = pos + sizeof(uint32_t) + entry_key.size();
      std::string_view entry_value = ReadField(state, value_pos);
      entry_end = value_pos + sizeof(uint32_t) + entry_value.size();
      if (entry_key == op.key) {
        value = std::string(entry_value);
        break;
      }
      if (entry_key > op.key) {
        entry_end = pos;  // insert before this entry
        break;
      }
      pos = entry_end;
    }
    if (pos == state.size()) entry_end = pos;

    if (!rules_.Apply(op, &value)) return false;
    next->clear();
    next->append(state, 0, pos);
    if (value.has_value()) {
      AppendField(op.key, next);
      AppendField(*value, next);
    }
    next->append(state, entry_end, std::string::npos);
    return true;
  }

  std::vector<Partition> PartitionHistory(const History& history) const override {
    if (!options_.partition_by_key) return Model::PartitionHistory(history);
    std::map<std::string_view, std::vector<size_t>> by_key;  // ordered: stable reports
    for (size_t i = 0; i < history.size(); ++i) by_key[history[i].key].push_back(i);
    std::vector<Partition> partitions;
    partitions.reserve(by_key.size());
    for (auto& [key, ops] : by_key) {
      partitions.push_back({.label = "key " + QuoteValue(std::string(key)), .ops = std::move(ops)});
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
      out += QuoteValue(std::string(key)) + ": " + QuoteValue(std::string(value));
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

  static void AppendField(std::string_view field, State* out) {
    const uint32_t size = static_cast<uint32_t>(field.size());
    out->append(reinterpret_cast<const char*>(&size), sizeof(size));
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
