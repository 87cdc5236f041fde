// Readers for the two history formats of porcupine's test data (testdata/porcupine/), both
// described in docs/lincheck.md:
//  - Jepsen etcd logs: `INFO  jepsen.util - <process>\t<type>\t<f>\t<value>`, one register;
//  - key-value lines: `{:process 3, :type :invoke, :f :append, :key "4", :value "x"}`.
// Neither format has timestamps; the line number is used as the time of each event, so the
// checker's failure reports point straight at lines of the file.
//
// Stateless functions; thread-safe.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "lincheck/history.h"

namespace raftkv::lincheck {

// All operations are on key "". `:fail :cas` is a completed cas that did not swap; other
// `:fail` results did not happen; `:info` results are unknown.
// `source` names the input in error messages ("<source>:<line>: ...").
absl::StatusOr<History> ParseJepsenLog(std::string_view text, std::string_view source);

// Operations are :get / :put / :append. Meant for the key-value model with
// absent_reads_as_empty, since these histories read "" from keys never written.
absl::StatusOr<History> ParsePorcupineKv(std::string_view text, std::string_view source);

}  // namespace raftkv::lincheck
