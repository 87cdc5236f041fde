// The project's own history format: one text line per client event, written by the simulator
// and the multi-process tests and read by `raftkv-lincheck`. Specified in docs/lincheck.md:
//
//   # raftkv-history v1
//   <time> <client> invoke get|put|append|cas|delete <key> [<value> | <expected> <value>]
//   <time> <client> ok get <key> <value>|nil
//   <time> <client> ok cas <key> swapped|unchanged
//   <time> <client> ok put|append|delete <key>
//   <time> <client> fail|info <kind> <key>
//
// Keys and values are double-quoted with C escapes; `nil` is "absent". Times are integers that
// never decrease down the file (sequence numbers or virtual nanoseconds) and become the
// operations' call and ret. A client has at most one operation open; an invocation left open
// at the end of the file is unknown, like an `info`.
//
// Stateless functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lincheck/history.h"

namespace raftkv::lincheck {

// `source` names the input in error messages ("<source>:<line>: ...").
absl::StatusOr<History> ParseRaftkvHistory(std::string_view text, std::string_view source);

// Renders `history` in this format; ParseRaftkvHistory gives back the same operations
// (ignoring the `ret` of unknown ones, which carries no meaning). Events are ordered by time;
// an unknown operation's `info` line is placed at its `ret` if it has one (ret >= call), but
// never after the same client's next invocation.
// REQUIRES: the operations of one client do not overlap in time.
std::string FormatRaftkvHistory(const History& history);

// Writes FormatRaftkvHistory(history) to `path`, replacing it.
absl::Status WriteRaftkvHistoryFile(const History& history, const std::string& path);

}  // namespace raftkv::lincheck
