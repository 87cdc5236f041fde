#include "lincheck/porcupine_format.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fmt/core.h"
#include "lincheck/text_scan.h"

namespace raftkv::lincheck {
namespace {

using internal::ErrorAt;
using internal::Excerpt;

std::optional<OpStatus> EventType(std::string_view type, bool* is_invoke) {
  *is_invoke = type == ":invoke";
  if (*is_invoke || type == ":info") return OpStatus::kUnknown;
  if (type == ":ok") return OpStatus::kOk;
  if (type == ":fail") return OpStatus::kFailed;
  return std::nullopt;
}

// ---- Jepsen ----------------------------------------------------------------------------------

constexpr std::string_view kJepsenShape =
    "`INFO  jepsen.util - <process>\\t<type>\\t<f>\\t<value>`";

bool IsInteger(std::string_view token) {
  int64_t ignored;
  return internal::ParseInt64(token, &ignored);
}

// Parses "[<int> <int>]".
bool ParseCasPair(std::string_view token, std::string* from, std::string* to) {
  if (token.size() < 2 || token.front() != '[' || token.back() != ']') return false;
  std::vector<std::string_view> parts =
      internal::Split(token.substr(1, token.size() - 2), ' ', /*skip_empty=*/true);
  if (parts.size() != 2 || !IsInteger(parts[0]) || !IsInteger(parts[1])) return false;
  *from = std::string(parts[0]);
  *to = std::string(parts[1]);
  return true;
}

}  // namespace

absl::StatusOr<History> ParseJepsenLog(std::string_view text, std::string_view source) {
  internal::OpenOperations open;
  for (const internal::Line& line : internal::SplitLines(text)) {
    if (line.text.find_first_not_of(" \t") == std::string_view::npos) continue;
    auto error = [&](std::string_view message) { return ErrorAt(source, line.number, message); };
    constexpr std::string_view kMarker = "jepsen.util - ";
    const size_t marker = line.text.find(kMarker);
    if (marker == std::string_view::npos) {
      return error(
          fmt::format("expected a Jepsen log line {}, found {}", kJepsenShape, Excerpt(line.text)));
    }
    // Fields are separated by tabs in most logs and by runs of spaces in a few; the value
    // (`[1 2]` for a cas) may itself contain a space, so it is the rest of the line.
    std::string_view rest = line.text.substr(marker + kMarker.size());
    std::string_view fields[4];
    for (int i = 0; i < 3; ++i) {
      rest = internal::StripLeadingSpace(rest);
      const size_t end = std::min(rest.find_first_of(" \t"), rest.size());
      fields[i] = rest.substr(0, end);
      rest.remove_prefix(end);
    }
    fields[3] = internal::StripTrailingSpace(internal::StripLeadingSpace(rest));
    if (fields[3].empty()) {
      return error(fmt::format("expected 4 fields after `jepsen.util - ` ({}), found {}",
                               kJepsenShape, Excerpt(line.text)));
    }
    const std::string_view process_field = fields[0];
    const std::string_view type = fields[1];
    const std::string_view f = fields[2];
    const std::string_view value = fields[3];
    int64_t process;
    if (!internal::ParseInt64(process_field, &process)) {
      return error(fmt::format("expected an integer process id, found {}", Excerpt(process_field)));
    }
    bool is_invoke = false;
    const std::optional<OpStatus> status = EventType(type, &is_invoke);
    if (!status.has_value()) {
      return error(fmt::format("expected :invoke, :ok, :fail or :info, found {}", Excerpt(type)));
    }
    OpKind kind;
    if (f == ":read") {
      kind = OpKind::kGet;
    } else if (f == ":write") {
      kind = OpKind::kPut;
    } else if (f == ":cas") {
      kind = OpKind::kCas;
    } else {
      return error(fmt::format("expected :read, :write or :cas, found {}", Excerpt(f)));
    }
    const auto time = static_cast<int64_t>(line.number);

    if (is_invoke) {
      Operation op;
      op.client_id = process;
      op.kind = kind;
      if (kind == OpKind::kGet && value != "nil") {
        return error(
            fmt::format("expected `nil` as the value of a read, found {}", Excerpt(value)));
      }
      if (kind == OpKind::kPut) {
        if (!IsInteger(value)) {
          return error(fmt::format("expected an integer to write, found {}", Excerpt(value)));
        }
        op.value = std::string(value);
      }
      if (kind == OpKind::kCas) {
        std::string from;
        if (!ParseCasPair(value, &from, &op.value)) {
          return error(fmt::format("expected `[<from> <to>]` for a cas, found {}", Excerpt(value)));
        }
        op.expected = std::move(from);
      }
      if (std::string message = open.Invoke(std::move(op), time); !message.empty()) {
        return error(message);
      }
      continue;
    }

    // A cas that failed its comparison observed the value, so it is a completed operation.
    const bool cas_mismatch = kind == OpKind::kCas && *status == OpStatus::kFailed;
    // Upstream reads `:fail :read :timed-out` as a read with an unknown outcome.
    const bool timed_out = value == ":timed-out";
    OpStatus final_status = *status;
    if (cas_mismatch) final_status = OpStatus::kOk;
    if (timed_out) final_status = OpStatus::kUnknown;
    Operation* op = open.Complete(process, final_status, time);
    if (op == nullptr) {
      return error(fmt::format("process {} completes an operation it never invoked", process));
    }
    if (op->kind != kind) {
      return error(fmt::format("process {} invoked {} but this completion is for {}", process,
                               OpKindName(op->kind), OpKindName(kind)));
    }
    if (final_status != OpStatus::kOk) continue;
    if (kind == OpKind::kGet) {
      if (value != "nil" && !IsInteger(value)) {
        return error(fmt::format("expected `nil` or an integer read, found {}", Excerpt(value)));
      }
      if (value != "nil") op->output = std::string(value);
    }
    if (kind == OpKind::kCas) op->swapped = !cas_mismatch;
  }
  return std::move(open).Finish();
}

// ---- porcupine key-value ---------------------------------------------------------------------

namespace {

struct KvFields {
  std::optional<int64_t> process;
  std::string type;
  std::string f;
  std::optional<std::string> key;
  std::optional<std::string> value;  // nullopt for nil or missing
};

// Parses one `{:name value, ...}` map. Returns an error message (empty on success).
std::string ParseKvMap(std::string_view rest, KvFields* fields) {
  auto skip_spaces = [&rest] {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  };
  skip_spaces();
  if (rest.empty() || rest.front() != '{') return "expected `{` to open a map";
  rest.remove_prefix(1);
  while (true) {
    skip_spaces();
    if (rest.empty()) return "expected `}` to close the map";
    if (rest.front() == '}') break;
    if (rest.front() != ':')
      return fmt::format("expected a field name such as `:process`, found {}", Excerpt(rest));
    const size_t name_end = rest.find(' ');
    if (name_end == std::string_view::npos)
      return fmt::format("expected a value after {}", Excerpt(rest));
    const std::string_view name = rest.substr(0, name_end);
    rest.remove_prefix(name_end);
    skip_spaces();
    std::optional<std::string> value;
    if (!rest.empty() && rest.front() == '"') {
      std::string text;
      if (std::string message = internal::ConsumeQuoted(&rest, &text); !message.empty()) {
        return fmt::format("in {}: {}", name, message);
      }
      value = std::move(text);
    } else {
      const size_t end = rest.find_first_of(",}");
      if (end == std::string_view::npos)
        return fmt::format("expected `,` or `}}` after {}", Excerpt(rest));
      std::string_view token = rest.substr(0, end);
      while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
      if (token.empty()) return fmt::format("expected a value for {}", name);
      if (token != "nil") value = std::string(token);
      rest.remove_prefix(token.size());
    }
    if (name == ":process") {
      int64_t process;
      if (!value.has_value() || !internal::ParseInt64(*value, &process)) {
        return "expected an integer :process";
      }
      fields->process = process;
    } else if (name == ":type") {
      fields->type = value.value_or("nil");
    } else if (name == ":f") {
      fields->f = value.value_or("nil");
    } else if (name == ":key") {
      fields->key = value;
    } else if (name == ":value") {
      fields->value = value;
    } else {
      return fmt::format("unknown field {} (expected :process, :type, :f, :key, :value)", name);
    }
    skip_spaces();
    if (!rest.empty() && rest.front() == ',') rest.remove_prefix(1);
  }
  rest.remove_prefix(1);
  skip_spaces();
  if (!rest.empty()) return fmt::format("unexpected text after the map: {}", Excerpt(rest));
  if (!fields->process.has_value()) return "missing :process";
  if (fields->type.empty()) return "missing :type";
  if (fields->f.empty()) return "missing :f";
  if (!fields->key.has_value()) return "missing :key (a string)";
  return "";
}

}  // namespace

absl::StatusOr<History> ParsePorcupineKv(std::string_view text, std::string_view source) {
  internal::OpenOperations open;
  for (const internal::Line& line : internal::SplitLines(text)) {
    if (line.text.find_first_not_of(" \t") == std::string_view::npos) continue;
    auto error = [&](std::string_view message) { return ErrorAt(source, line.number, message); };
    KvFields fields;
    if (std::string message = ParseKvMap(line.text, &fields); !message.empty()) {
      return error(message);
    }
    bool is_invoke = false;
    const std::optional<OpStatus> status = EventType(fields.type, &is_invoke);
    if (!status.has_value()) {
      return error(fmt::format("expected :type :invoke, :ok, :fail or :info, found {}",
                               Excerpt(fields.type)));
    }
    OpKind kind;
    if (fields.f == ":get") {
      kind = OpKind::kGet;
    } else if (fields.f == ":put") {
      kind = OpKind::kPut;
    } else if (fields.f == ":append") {
      kind = OpKind::kAppend;
    } else {
      return error(fmt::format("expected :f :get, :put or :append, found {}", Excerpt(fields.f)));
    }
    const auto time = static_cast<int64_t>(line.number);
    if (is_invoke) {
      Operation op;
      op.client_id = *fields.process;
      op.kind = kind;
      op.key = *fields.key;
      if (kind != OpKind::kGet) {
        if (!fields.value.has_value()) {
          return error(fmt::format("expected a string :value for {}", fields.f));
        }
        op.value = *fields.value;
      }
      if (std::string message = open.Invoke(std::move(op), time); !message.empty()) {
        return error(message);
      }
      continue;
    }
    Operation* op = open.Complete(*fields.process, *status, time);
    if (op == nullptr) {
      return error(
          fmt::format("process {} completes an operation it never invoked", *fields.process));
    }
    if (op->kind != kind || op->key != *fields.key) {
      return error(fmt::format("process {} invoked {} on {} but this completion is for {} on {}",
                               *fields.process, OpKindName(op->kind), Excerpt(op->key),
                               OpKindName(kind), Excerpt(*fields.key)));
    }
    if (*status == OpStatus::kOk && kind == OpKind::kGet) op->output = fields.value;
  }
  return std::move(open).Finish();
}

}  // namespace raftkv::lincheck
