// The URLs of etcd's flags (--listen-client-urls http://127.0.0.1:2379, ...) and the host:port
// addresses gRPC wants.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace raftkv::server {

struct HostPort {
  std::string host;
  int port = 0;
  bool tls = false;  // https://
  std::string ToString() const;  // "host:port", IPv6 hosts in brackets
};

// Parses "http://host:port" or "https://host:port" (a trailing "/" is allowed). InvalidArgument, saying what is
// wrong, for another scheme, a missing or out-of-range port, or a path.
absl::StatusOr<HostPort> ParseUrl(const std::string& url);

// Splits a comma-separated list of URLs and checks each one.
absl::StatusOr<std::vector<std::string>> ParseUrlList(const std::string& list);

}  // namespace raftkv::server
