// Small helpers shared by the history parsers: numbered lines, errors that point at a file and
// line, and quoted strings. Internal to src/lincheck. Stateless; thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lincheck/history.h"

namespace raftkv::lincheck::internal {

// Debian's abseil has its own string_view type, distinct from std::string_view.
inline absl::string_view ToAbsl(std::string_view text) {
  return absl::string_view(text.data(), text.size());
}

// A whole-token decimal integer (optional leading '-'); false on anything else.
bool ParseInt64(std::string_view text, int64_t* out);

inline std::string_view StripLeadingSpace(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  return text;
}

inline std::string_view StripTrailingSpace(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Splits on `separator`; with `skip_empty`, empty pieces are dropped.
std::vector<std::string_view> Split(std::string_view text, char separator, bool skip_empty);

struct Line {
  size_t number;          // 1-based
  std::string_view text;  // without the line break (and without a trailing '\r')
};

std::vector<Line> SplitLines(std::string_view text);

// An InvalidArgument error reading "<source>:<line>: <message>".
absl::Status ErrorAt(std::string_view source, size_t line, std::string_view message);

// Shortens `text` for quoting in an error message.
std::string Excerpt(std::string_view text);

// If `*rest` starts with a double-quoted string (backslash escapes as in C), consumes it and
// stores its unescaped content. Returns an error message (empty on success).
std::string ConsumeQuoted(std::string_view* rest, std::string* out);

// Pairs invocations with completions by client, the way all three formats are written: a
// client has at most one operation open at a time.
class OpenOperations {
 public:
  // Opens `op` for op.client_id (call time `time`). Error message if one is already open.
  std::string Invoke(Operation op, int64_t time);

  // Closes the client's open operation with `status` at `time` and returns it so that the
  // caller can fill in the outputs; nullptr if the client has nothing open. The pointer is
  // valid until the next Invoke.
  Operation* Complete(int64_t client_id, OpStatus status, int64_t time);

  // Operations still open become kUnknown: their outcome was never recorded.
  History Finish() &&;

 private:
  History history_;
  absl::flat_hash_map<int64_t, size_t> open_;
};

}  // namespace raftkv::lincheck::internal
