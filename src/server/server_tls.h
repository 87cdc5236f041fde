// The server's TLS set-up from its flags: --auto-tls / --peer-auto-tls certificates, and the
// credentials of the client listener, the peer listener and the peer channels. As in etcd, a
// certificate is used only on https:// URLs; on http:// URLs it is ignored.
//
// Thread-safety: pure functions (they read and may write certificate files).
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "server/flags.h"
#include "spdlog/spdlog.h"

namespace raftkv::server {

// `flags` with --auto-tls / --peer-auto-tls resolved: when set and no certificate is given, a
// self-signed one is generated (or reused) in <data-dir>/fixtures/client or
// <data-dir>/fixtures/peer and named in the cert and key fields. As etcd, a given certificate
// wins over auto TLS (with a warning).
absl::StatusOr<ServerFlags> WithAutoTls(const ServerFlags& flags, spdlog::logger& log);

struct TlsCredentials {
  // For the https:// client URLs.
  std::shared_ptr<grpc::ServerCredentials> client_server;
  // For calls a follower forwards to the leader's https:// client URL: this member's client
  // certificate, verified against --trusted-ca-file. Null without client TLS.
  std::shared_ptr<grpc::ChannelCredentials> client_channel;
  // The peer listener and the channels to the other members: plain text unless
  // --listen-peer-urls is https://.
  std::shared_ptr<grpc::ServerCredentials> peer_server;
  std::shared_ptr<grpc::ChannelCredentials> peer_channel;
};

// REQUIRES: flags passed through WithAutoTls. InvalidArgument naming the flag for a missing or
// wrong certificate file.
absl::StatusOr<TlsCredentials> MakeTlsCredentials(const ServerFlags& flags);

}  // namespace raftkv::server
