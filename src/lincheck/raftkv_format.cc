#include "lincheck/raftkv_format.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "fmt/core.h"
#include "lincheck/text_scan.h"

namespace raftkv::lincheck {
namespace {

using internal::ErrorAt;
using internal::Excerpt;

constexpr std::string_view kHeader = "# raftkv-history v1";

struct Token {
  std::string text;
  bool quoted = false;
};

// Splits a line into bare words and quoted strings. Returns an error message (empty on
// success).
std::string Tokenize(std::string_view rest, std::vector<Token>* tokens) {
  while (true) {
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    if (rest.empty()) return "";
    Token token;
    if (rest.front() == '"') {
      token.quoted = true;
      if (std::string message = internal::ConsumeQuoted(&rest, &token.text); !message.empty()) {
        return message;
      }
      if (!rest.empty() && rest.front() != ' ' && rest.front() != '\t') {
        return fmt::format("expected a space after a quoted string, found {}", Excerpt(rest));
      }
    } else {
      const size_t end = rest.find_first_of(" \t");
      token.text = std::string(rest.substr(0, end));
      rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
    }
    tokens->push_back(std::move(token));
  }
}

std::optional<OpKind> KindFromName(std::string_view name) {
  for (OpKind kind : {OpKind::kGet, OpKind::kPut, OpKind::kAppend, OpKind::kCas, OpKind::kDelete}) {
    if (OpKindName(kind) == name) return kind;
  }
  return std::nullopt;
}

// How many tokens follow the key, for messages and checks.
size_t InvokeArgCount(OpKind kind) {
  switch (kind) {
    case OpKind::kPut:
    case OpKind::kAppend:
      return 1;
    case OpKind::kCas:
      return 2;
    case OpKind::kGet:
    case OpKind::kDelete:
      return 0;
  }
  return 0;
}

constexpr std::string_view kInvokeShapes[] = {
    "invoke get <key>", "invoke put <key> <value>", "invoke append <key> <value>",
    "invoke cas <key> <expected>|nil <value>", "invoke delete <key>"};

std::string Quote(std::string_view text) {
  return fmt::format("\"{}\"", absl::CEscape(internal::ToAbsl(text)));
}

std::string QuoteOrNil(const std::optional<std::string>& value) {
  return value.has_value() ? Quote(*value) : "nil";
}

}  // namespace

absl::StatusOr<History> ParseRaftkvHistory(std::string_view text, std::string_view source) {
  internal::OpenOperations open;
  int64_t last_time = std::numeric_limits<int64_t>::min();
  for (const internal::Line& line : internal::SplitLines(text)) {
    auto error = [&](std::string_view message) { return ErrorAt(source, line.number, message); };
    const size_t first = line.text.find_first_not_of(" \t");
    if (first == std::string_view::npos || line.text[first] == '#') continue;
    std::vector<Token> tokens;
    if (std::string message = Tokenize(line.text, &tokens); !message.empty()) {
      return error(message);
    }
    if (tokens.size() < 5) {
      return error(
          fmt::format("expected `<time> <client> invoke|ok|fail|info <kind> <key> ...`, found {}",
                      Excerpt(line.text)));
    }
    int64_t time;
    int64_t client;
    if (tokens[0].quoted || !internal::ParseInt64(tokens[0].text, &time)) {
      return error(fmt::format("expected an integer time, found {}", Excerpt(tokens[0].text)));
    }
    if (time < last_time) {
      return error(
          fmt::format("time {} is earlier than the previous event's time {}; events "
                      "must be in time order",
                      time, last_time));
    }
    last_time = time;
    if (tokens[1].quoted || !internal::ParseInt64(tokens[1].text, &client)) {
      return error(fmt::format("expected an integer client id, found {}", Excerpt(tokens[1].text)));
    }
    const std::string& type = tokens[2].text;
    const std::optional<OpKind> kind = KindFromName(tokens[3].text);
    if (!kind.has_value() || tokens[3].quoted) {
      return error(fmt::format("expected get, put, append, cas or delete, found {}",
                               Excerpt(tokens[3].text)));
    }
    if (!tokens[4].quoted) {
      return error(fmt::format("expected a double-quoted key, found {}", Excerpt(tokens[4].text)));
    }
    const std::string& key = tokens[4].text;
    const std::vector<Token> args(tokens.begin() + 5, tokens.end());

    if (type == "invoke") {
      if (args.size() != InvokeArgCount(*kind)) {
        return error(fmt::format("expected `<time> <client> {}`",
                                 kInvokeShapes[static_cast<size_t>(*kind)]));
      }
      Operation op;
      op.client_id = client;
      op.kind = *kind;
      op.key = key;
      if (*kind == OpKind::kPut || *kind == OpKind::kAppend) {
        if (!args[0].quoted) {
          return error(
              fmt::format("expected a double-quoted value, found {}", Excerpt(args[0].text)));
        }
        op.value = args[0].text;
      }
      if (*kind == OpKind::kCas) {
        if (!args[0].quoted && args[0].text != "nil") {
          return error(fmt::format("expected a double-quoted expected value or nil, found {}",
                                   Excerpt(args[0].text)));
        }
        if (!args[1].quoted) {
          return error(
              fmt::format("expected a double-quoted new value, found {}", Excerpt(args[1].text)));
        }
        if (args[0].quoted) op.expected = args[0].text;
        op.value = args[1].text;
      }
      if (std::string message = open.Invoke(std::move(op), time); !message.empty()) {
        return error(message);
      }
      continue;
    }

    OpStatus status;
    if (type == "ok") {
      status = OpStatus::kOk;
    } else if (type == "fail") {
      status = OpStatus::kFailed;
    } else if (type == "info") {
      status = OpStatus::kUnknown;
    } else {
      return error(fmt::format("expected invoke, ok, fail or info, found {}", Excerpt(type)));
    }
    const bool has_result =
        status == OpStatus::kOk && (*kind == OpKind::kGet || *kind == OpKind::kCas);
    if (args.size() != (has_result ? 1u : 0u)) {
      return error(has_result ? fmt::format("expected one result after the key: {}",
                                            *kind == OpKind::kGet ? "the value read or nil"
                                                                  : "swapped or unchanged")
                              : fmt::format("expected nothing after the key of `{} {}`", type,
                                            OpKindName(*kind)));
    }
    Operation* op = open.Complete(client, status, time);
    if (op == nullptr) {
      return error(fmt::format("client {} completes an operation it never invoked", client));
    }
    if (op->kind != *kind || op->key != key) {
      return error(fmt::format("client {} invoked {} {} but this line completes {} {}", client,
                               OpKindName(op->kind), Quote(op->key), OpKindName(*kind),
                               Quote(key)));
    }
    if (!has_result) continue;
    if (*kind == OpKind::kGet) {
      if (!args[0].quoted && args[0].text != "nil") {
        return error(fmt::format("expected the value read (double-quoted) or nil, found {}",
                                 Excerpt(args[0].text)));
      }
      if (args[0].quoted) op->output = args[0].text;
    } else {
      if (args[0].quoted || (args[0].text != "swapped" && args[0].text != "unchanged")) {
        return error(fmt::format("expected swapped or unchanged, found {}", Excerpt(args[0].text)));
      }
      op->swapped = args[0].text == "swapped";
    }
  }
  return std::move(open).Finish();
}

std::string FormatRaftkvHistory(const History& history) {
  // Each client's operations in call order, so that an unknown one's `info` can be kept before
  // the client's next invocation.
  absl::flat_hash_map<int64_t, std::vector<size_t>> by_client;
  for (size_t i = 0; i < history.size(); ++i) by_client[history[i].client_id].push_back(i);
  int64_t last_time = std::numeric_limits<int64_t>::min();
  for (const Operation& op : history) last_time = std::max({last_time, op.call, op.ret});

  // (time, client, position in the client's sequence, 0 = invoke / 1 = completion, op).
  // Same-time events of one client stay in the client's own order; the times, not the line
  // order, carry the meaning.
  using Event = std::tuple<int64_t, int64_t, size_t, int, size_t>;
  std::vector<Event> events;
  events.reserve(2 * history.size());
  for (auto& [client, ops] : by_client) {
    std::stable_sort(ops.begin(), ops.end(),
                     [&](size_t a, size_t b) { return history[a].call < history[b].call; });
    for (size_t pos = 0; pos < ops.size(); ++pos) {
      const Operation& op = history[ops[pos]];
      events.emplace_back(op.call, client, pos, 0, ops[pos]);
      int64_t done = op.ret;
      if (op.status == OpStatus::kUnknown) {
        if (op.ret < op.call) done = last_time;
        if (pos + 1 < ops.size()) done = std::min(done, history[ops[pos + 1]].call);
        done = std::max(done, op.call);
      }
      events.emplace_back(done, client, pos, 1, ops[pos]);
    }
  }
  std::sort(events.begin(), events.end());

  std::string out = std::string(kHeader) + "\n";
  for (const auto& [time, client, pos, phase, index] : events) {
    const Operation& op = history[index];
    out += fmt::format("{} {} ", time, client);
    if (phase == 0) {
      out += fmt::format("invoke {} {}", OpKindName(op.kind), Quote(op.key));
      if (op.kind == OpKind::kPut || op.kind == OpKind::kAppend)
        out += fmt::format(" {}", Quote(op.value));
      if (op.kind == OpKind::kCas)
        out += fmt::format(" {} {}", QuoteOrNil(op.expected), Quote(op.value));
    } else {
      out += fmt::format("{} {} {}", OpStatusName(op.status), OpKindName(op.kind), Quote(op.key));
      if (op.status == OpStatus::kOk && op.kind == OpKind::kGet) {
        out += fmt::format(" {}", QuoteOrNil(op.output));
      }
      if (op.status == OpStatus::kOk && op.kind == OpKind::kCas) {
        out += op.swapped ? " swapped" : " unchanged";
      }
    }
    out += "\n";
  }
  return out;
}

absl::Status WriteRaftkvHistoryFile(const History& history, const std::string& path) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) {
    return absl::UnavailableError(
        fmt::format("cannot open {} for writing: {}", path, std::strerror(errno)));
  }
  file << FormatRaftkvHistory(history);
  file.close();
  if (!file) {
    return absl::UnavailableError(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace raftkv::lincheck
