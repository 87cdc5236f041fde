// RAFTKV_CHECK: an invariant check that stays on in every build type.
//
// `assert` compiles out under NDEBUG, and the server ships as a Release build. An invariant
// whose violation would lose or replace committed data, or leave the log inconsistent, must
// stop the process there too: going on would spread the damage to the state machine and to
// peers (etcd-io/raft panics in the same places). On failure the check writes one line to
// stderr — "invariant broken: <message> [<condition>] at <file>:<line>" — and aborts. The
// message arguments are concatenated with absl::StrCat and evaluated only on failure.
//
// Use it for programmer errors that endanger data; operating errors (I/O, corrupt files, bad
// peer input) are returned as statuses instead. The header pulls in no threads, clocks or I/O,
// so the pure consensus core may use it.
// Thread-safety: stateless.
#pragma once

#include <string>

#include "absl/strings/str_cat.h"

namespace raftkv::base {

// Writes the failure line to stderr and aborts. Never returns.
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition,
                              const std::string& message);

}  // namespace raftkv::base

#define RAFTKV_CHECK(condition, ...)                                                            \
  do {                                                                                          \
    if (!(condition)) [[unlikely]] {                                                            \
      ::raftkv::base::CheckFailed(__FILE__, __LINE__, #condition, ::absl::StrCat(__VA_ARGS__)); \
    }                                                                                           \
  } while (false)
