// Every flag of etcd 3.4's `etcd --help`, with what raftkv-server does with it.
//
// One table feeds the command-line parser (server/command_line.cc), the start-up warnings for
// flags that have no effect, and the flag table of docs/operations.md (a unit test checks that
// every row is documented), so that code and documentation cannot drift apart.
//
// Thread-safety: immutable data.
#pragma once

#include <span>
#include <string_view>

namespace raftkv::server {

enum class EtcdFlagStatus {
  // Read into ServerFlags with etcd's meaning.
  kImplemented,
  // Accepted so that an etcd launch script runs; one warning line at start-up says it has no
  // effect.
  kIgnored,
  // Accepted by the parser, but the server refuses to start when it is set (its silent absence
  // would lose data or break the operator's expectation).
  kRefused,
};

struct EtcdFlag {
  // Without the leading dashes, as in `etcd --help`.
  std::string_view name;
  // Go boolean flags: `--name`, `--name=true`, `--name=false`; the rest take a value.
  bool boolean;
  EtcdFlagStatus status;
  // Why, in one line (shown in the warning and in docs/operations.md).
  std::string_view note;
};

std::span<const EtcdFlag> EtcdFlags();

// nullptr if `name` (without dashes) is not one of etcd's flags.
const EtcdFlag* FindEtcdFlag(std::string_view name);

}  // namespace raftkv::server
