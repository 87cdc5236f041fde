#include "server/server_tls.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "server/self_signed_certificate.h"
#include "server/url.h"

namespace raftkv::server {
namespace {

std::vector<std::string> HostsOf(const std::string& url_list) {
  std::vector<std::string> hosts;
  const std::vector<std::string> urls = *ParseUrlList(url_list);
  for (const std::string& url : urls) hosts.push_back(ParseUrl(url)->host);
  return hosts;
}

bool FirstIsHttps(const std::string& url_list) {
  return ParseUrl(ParseUrlList(url_list)->front())->tls;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// --peer-auto-tls: a member cannot verify another's self-signed certificate, so, as etcd
// (InsecureSkipVerify), it encrypts without verifying, and presents its own certificate.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> UnverifiedChannel(
    const transport::TlsFiles& files) {
  // Checks the files as MakeChannelCredentials does.
  if (absl::Status s = transport::MakeChannelCredentials(files).status(); !s.ok()) return s;
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(
      std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
          std::vector<grpc::experimental::IdentityKeyCertPair>{
              {ReadFile(files.key_file), ReadFile(files.cert_file)}}));
  options.watch_identity_key_cert_pairs();
  options.set_verify_server_certs(false);
  options.set_check_call_host(false);
  options.set_certificate_verifier(std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
  return grpc::experimental::TlsCredentials(options);
}

}  // namespace

absl::StatusOr<ServerFlags> WithAutoTls(const ServerFlags& flags, spdlog::logger& log) {
  ServerFlags out = flags;
  if (flags.auto_tls) {
    if (!flags.cert_file.empty()) {
      log.warn("ignoring --auto-tls: --cert-file and --key-file are given");
    } else {
      absl::StatusOr<CertificateFiles> files = EnsureSelfSignedCertificate(
          absl::StrCat(flags.data_dir, "/fixtures/client"), HostsOf(flags.listen_client_urls));
      if (!files.ok()) return files.status();
      out.cert_file = files->cert_file;
      out.key_file = files->key_file;
      // Clients cannot be verified against a self-signed certificate's CA.
      if (flags.client_cert_auth && flags.trusted_ca_file.empty()) {
        log.warn("--client-cert-auth has no effect with --auto-tls and no --trusted-ca-file");
        out.client_cert_auth = false;
      }
    }
  }
  if (flags.peer_auto_tls) {
    if (!flags.peer_cert_file.empty()) {
      log.warn("ignoring --peer-auto-tls: --peer-cert-file and --peer-key-file are given");
    } else {
      absl::StatusOr<CertificateFiles> files = EnsureSelfSignedCertificate(
          absl::StrCat(flags.data_dir, "/fixtures/peer"), HostsOf(flags.listen_peer_urls));
      if (!files.ok()) return files.status();
      out.peer_cert_file = files->cert_file;
      out.peer_key_file = files->key_file;
      if (flags.peer_client_cert_auth && flags.peer_trusted_ca_file.empty()) {
        log.warn(
            "--peer-client-cert-auth has no effect with --peer-auto-tls and no "
            "--peer-trusted-ca-file");
        out.peer_client_cert_auth = false;
      }
    }
  }
  return out;
}

absl::StatusOr<TlsCredentials> MakeTlsCredentials(const ServerFlags& flags) {
  TlsCredentials out;
  out.client_server = grpc::InsecureServerCredentials();
  out.peer_server = grpc::InsecureServerCredentials();
  out.peer_channel = grpc::InsecureChannelCredentials();
  absl::StatusOr<std::vector<std::string>> client_urls = ParseUrlList(flags.listen_client_urls);
  bool client_https = false;
  for (const std::string& url : *client_urls) client_https = client_https || ParseUrl(url)->tls;
  if (client_https) {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
        transport::MakeServerCredentials(ClientTlsFiles(flags));
    if (!credentials.ok()) return credentials.status();
    out.client_server = *credentials;
    const transport::TlsFiles files = ClientTlsFiles(flags);
    const bool self_signed = flags.auto_tls && flags.trusted_ca_file.empty();
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> channel =
        self_signed ? UnverifiedChannel(files) : transport::MakeChannelCredentials(files);
    if (!channel.ok()) return channel.status();
    out.client_channel = *channel;
  }
  if (FirstIsHttps(flags.listen_peer_urls)) {
    const transport::TlsFiles files = PeerTlsFiles(flags);
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> server =
        transport::MakeServerCredentials(files);
    if (!server.ok()) return server.status();
    out.peer_server = *server;
    const bool self_signed = flags.peer_auto_tls && flags.peer_trusted_ca_file.empty();
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> channel =
        self_signed ? UnverifiedChannel(files) : transport::MakeChannelCredentials(files);
    if (!channel.ok()) return channel.status();
    out.peer_channel = *channel;
  }
  return out;
}

}  // namespace raftkv::server
