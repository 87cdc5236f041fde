#include "lincheck/text_scan.h"

#include <charconv>
#include <system_error>
#include <utility>

#include "absl/strings/escaping.h"
#include "fmt/core.h"

namespace raftkv::lincheck::internal {

bool ParseInt64(std::string_view text, int64_t* out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

std::vector<std::string_view> Split(std::string_view text, char separator, bool skip_empty) {
  std::vector<std::string_view> pieces;
  while (true) {
    const size_t end = text.find(separator);
    const std::string_view piece = text.substr(0, end);
    if (!skip_empty || !piece.empty()) pieces.push_back(piece);
    if (end == std::string_view::npos) return pieces;
    text.remove_prefix(end + 1);
  }
}

std::vector<Line> SplitLines(std::string_view text) {
  std::vector<Line> lines;
  size_t number = 1;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back({number++, line});
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

absl::Status ErrorAt(std::string_view source, size_t line, std::string_view message) {
  return absl::InvalidArgumentError(fmt::format("{}:{}: {}", source, line, message));
}

std::string Excerpt(std::string_view text) {
  constexpr size_t kMaxChars = 60;
  if (text.size() <= kMaxChars) return fmt::format("`{}`", absl::CHexEscape(ToAbsl(text)));
  return fmt::format("`{}...`", absl::CHexEscape(ToAbsl(text.substr(0, kMaxChars))));
}

std::string ConsumeQuoted(std::string_view* rest, std::string* out) {
  if (rest->empty() || rest->front() != '"') return "expected a double-quoted string";
  size_t i = 1;
  while (i < rest->size() && (*rest)[i] != '"') i += (*rest)[i] == '\\' ? 2 : 1;
  if (i >= rest->size()) return "unterminated string (missing closing \")";
  std::string error;
  if (!absl::CUnescape(ToAbsl(rest->substr(1, i - 1)), out, &error)) {
    return fmt::format("bad escape in string: {}", error);
  }
  rest->remove_prefix(i + 1);
  return "";
}

std::string OpenOperations::Invoke(Operation op, int64_t time) {
  auto [it, inserted] = open_.try_emplace(op.client_id, history_.size());
  if (!inserted) {
    return fmt::format("client {} invokes an operation while its {} from time {} is still open",
                       op.client_id, OpKindName(history_[it->second].kind),
                       history_[it->second].call);
  }
  op.call = time;
  op.ret = time;
  op.status = OpStatus::kUnknown;
  history_.push_back(std::move(op));
  return "";
}

Operation* OpenOperations::Complete(int64_t client_id, OpStatus status, int64_t time) {
  auto it = open_.find(client_id);
  if (it == open_.end()) return nullptr;
  Operation* op = &history_[it->second];
  open_.erase(it);
  op->status = status;
  op->ret = time;
  return op;
}

History OpenOperations::Finish() && { return std::move(history_); }

}  // namespace raftkv::lincheck::internal
