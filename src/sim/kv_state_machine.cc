#include "sim/kv_state_machine.h"

#include <charconv>
#include <vector>

#include "fmt/format.h"

namespace raftkv::sim {
namespace {

// Keys and values in the simulator are short alphanumeric strings, so a field separator that
// never occurs in them keeps the encoding trivial. '~' marks an absent expected value.
constexpr char kSep = '|';
constexpr std::string_view kAbsent = "~";

uint64_t Fnv(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  h ^= 0xff;  // field terminator, so ("ab","c") and ("a","bc") differ
  return h * 0x100000001b3ULL;
}

std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(sep, start);
    if (end == std::string_view::npos) {
      out.push_back(text.substr(start));
      return out;
    }
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

bool ParseU64(std::string_view text, uint64_t* out) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty();
}

}  // namespace

std::string EncodeCommand(const Command& c) {
  const char* kind = c.kind == CommandKind::kGet   ? "get"
                     : c.kind == CommandKind::kPut ? "put"
                                                   : "cas";
  return fmt::format("{}{}{}{}{}{}{}{}{}{}{}", kind, kSep, c.client_id, kSep, c.seq, kSep, c.key,
                     kSep, c.value, kSep, c.expected.has_value() ? *c.expected : kAbsent);
}

absl::StatusOr<Command> DecodeCommand(std::string_view data) {
  std::vector<std::string_view> f = Split(data, kSep);
  if (f.size() != 6) return absl::InvalidArgumentError(fmt::format("bad command '{}'", data));
  Command c;
  if (f[0] == "get") {
    c.kind = CommandKind::kGet;
  } else if (f[0] == "put") {
    c.kind = CommandKind::kPut;
  } else if (f[0] == "cas") {
    c.kind = CommandKind::kCas;
  } else {
    return absl::InvalidArgumentError(fmt::format("bad command kind in '{}'", data));
  }
  if (!ParseU64(f[1], &c.client_id) || !ParseU64(f[2], &c.seq)) {
    return absl::InvalidArgumentError(fmt::format("bad client or seq in '{}'", data));
  }
  c.key = std::string(f[3]);
  c.value = std::string(f[4]);
  if (f[5] != kAbsent) c.expected = std::string(f[5]);
  return c;
}

CommandResult KvStateMachine::Apply(const Command& c) {
  // seq 0 opts out of sessions (commands proposed directly by tests, never retried).
  auto session = c.seq == 0 ? sessions_.end() : sessions_.find(c.client_id);
  if (session != sessions_.end() && c.seq <= session->second.seq) {
    // A retry of a command that already took effect: answer as the first time (§8). Older
    // sequence numbers can only come from a request the client has given up on.
    return session->second.result;
  }
  CommandResult result;
  auto it = data_.find(c.key);
  switch (c.kind) {
    case CommandKind::kGet:
      if (it != data_.end()) result.value = it->second;
      break;
    case CommandKind::kPut:
      data_[c.key] = c.value;
      break;
    case CommandKind::kCas: {
      const bool present = it != data_.end();
      result.swapped = c.expected.has_value() ? (present && it->second == *c.expected) : !present;
      if (result.swapped) data_[c.key] = c.value;
      break;
    }
  }
  if (c.seq != 0) sessions_[c.client_id] = Session{c.seq, result};
  return result;
}

std::optional<std::string> KvStateMachine::Read(const std::string& key) const {
  auto it = data_.find(key);
  if (it == data_.end()) return std::nullopt;
  return it->second;
}

std::string KvStateMachine::Serialize() const {
  // Lines: "d|key|value" and "s|client|seq|swapped|value-or-~".
  std::string out;
  for (const auto& [key, value] : data_) out += fmt::format("d{}{}{}{}\n", kSep, key, kSep, value);
  for (const auto& [client, s] : sessions_) {
    out += fmt::format("s{}{}{}{}{}{}{}{}\n", kSep, client, kSep, s.seq, kSep,
                       s.result.swapped ? 1 : 0, kSep,
                       s.result.value.has_value() ? *s.result.value : kAbsent);
  }
  return out;
}

absl::Status KvStateMachine::Restore(std::string_view data) {
  std::map<std::string, std::string> new_data;
  std::map<uint64_t, Session> new_sessions;
  for (std::string_view line : Split(data, '\n')) {
    if (line.empty()) continue;
    std::vector<std::string_view> f = Split(line, kSep);
    if (f[0] == "d" && f.size() == 3) {
      new_data[std::string(f[1])] = std::string(f[2]);
    } else if (f[0] == "s" && f.size() == 5) {
      uint64_t client = 0;
      Session s;
      if (!ParseU64(f[1], &client) || !ParseU64(f[2], &s.seq)) {
        return absl::DataLossError(fmt::format("bad session line '{}'", line));
      }
      s.result.swapped = f[3] == "1";
      if (f[4] != kAbsent) s.result.value = std::string(f[4]);
      new_sessions[client] = s;
    } else {
      return absl::DataLossError(fmt::format("bad snapshot line '{}'", line));
    }
  }
  data_ = std::move(new_data);
  sessions_ = std::move(new_sessions);
  return absl::OkStatus();
}

uint64_t KvStateMachine::Digest() const {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const auto& [key, value] : data_) h = Fnv(Fnv(h, key), value);
  return h;
}

}  // namespace raftkv::sim
