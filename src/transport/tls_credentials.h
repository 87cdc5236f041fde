// TLS for gRPC from etcd's certificate flags (--cert-file, --key-file, --trusted-ca-file,
// --client-cert-auth and their --peer-* counterparts): one place that turns a set of files into
// server and channel credentials, so that the client listener, the peer listener, the peer
// senders and a joining member's membership fetch all agree.
//
// The files are checked when the credentials are built: a missing or unreadable file, a file
// that holds no PEM certificate or key, or a key that does not belong to the certificate is an
// InvalidArgument naming the flag. Afterwards gRPC re-reads them every kReloadInterval, so
// replaced certificates (a renewed certificate, a CA bundle with a new CA) apply to new
// connections without a restart.
//
// Thread-safety: pure functions (they read files).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"

namespace raftkv::transport {

inline constexpr absl::Duration kReloadInterval = absl::Seconds(5);

struct TlsFiles {
  // Which flags these are, for error messages: "" for the client flags, "peer-" for the peer
  // flags (then "--peer-cert-file" and so on).
  std::string flag_prefix;
  std::string cert_file;
  std::string key_file;
  // CA bundle that signs the other side's certificates. Empty: the system's roots (for
  // channels), no client verification (for servers).
  std::string trusted_ca_file;
  // Server side: require a client certificate signed by trusted_ca_file and refuse the
  // handshake otherwise.
  bool client_cert_auth = false;

  // False: plain text (no TLS flags given).
  bool enabled() const { return !cert_file.empty() || !key_file.empty(); }
};

// Plain text when !files.enabled(); otherwise TLS with the certificate, requiring and verifying
// client certificates under client_cert_auth.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files);

// Plain text when !files.enabled(); otherwise TLS that verifies the server against
// trusted_ca_file and presents the certificate as the client certificate (mutual TLS).
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TlsFiles& files);

}  // namespace raftkv::transport
