// etcd's --config-file: the YAML file etcd 3.4 reads (embed.Config's yaml field names), turned
// into the equivalent command line so that each value is converted and checked exactly as the
// flag would be.
//
// Keys are the flag names ("name", "data-dir", "listen-client-urls", "initial-cluster", ...).
// A list (etcd writes log-outputs as one) becomes a comma-separated value; a key with no value
// (`key:` or `key: null`) is left unset, as Go's YAML decoder leaves the zero value. The TLS
// settings nest as etcd nests them:
//   client-transport-security: {cert-file, key-file, trusted-ca-file, client-cert-auth, auto-tls}
//   peer-transport-security:   the same keys, which become --peer-cert-file, --peer-key-file, ...
// A key that is not an etcd flag is reported back (etcd ignores it silently; raftkv warns).
//
// Thread-safety: pure function (reads the file).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace raftkv::server {

struct ConfigFileArgs {
  std::vector<std::string> args;          // "--key=value"
  std::vector<std::string> unknown_keys;  // as written in the file
};

// InvalidArgument naming the file (and line) for unreadable or malformed YAML, or a value of the
// wrong shape (a map where a value belongs).
absl::StatusOr<ConfigFileArgs> ReadConfigFile(const std::string& path);

// The same, from YAML text; `path` names it in errors.
absl::StatusOr<ConfigFileArgs> ParseConfigYaml(const std::string& text, const std::string& path);

}  // namespace raftkv::server
