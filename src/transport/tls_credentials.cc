#include "transport/tls_credentials.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace raftkv::transport {
namespace {

std::string Flag(const TlsFiles& files, const char* name) {
  return absl::StrCat("--", files.flag_prefix, name);
}

absl::StatusOr<std::string> ReadPem(const TlsFiles& files, const char* flag,
                                    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(Flag(files, flag), " ", path, ": cannot open the file"));
  }
  std::ostringstream content;
  content << in.rdbuf();
  // Bounded: certificates and keys are a few kilobytes; a huge file is a wrong path.
  if (content.str().size() > (4 << 20)) {
    return absl::InvalidArgumentError(
        absl::StrCat(Flag(files, flag), " ", path, ": larger than 4 MiB, not a PEM file"));
  }
  return content.str();
}

std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no PEM data";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

// Parses the certificate (the first of the chain) and the key, and checks that they belong
// together, so that a wrong file is reported at start-up and not as a failed handshake later.
absl::Status CheckPair(const TlsFiles& files, const std::string& cert_pem,
                       const std::string& key_pem) {
  BIO* cert_bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* cert = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
  BIO_free(cert_bio);
  absl::Cleanup free_cert = [cert] { X509_free(cert); };
  if (cert == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(Flag(files, "cert-file"), " ", files.cert_file,
                                                   ": no PEM certificate (", OpenSslError(), ")"));
  }
  BIO* key_bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
  BIO_free(key_bio);
  absl::Cleanup free_key = [key] { EVP_PKEY_free(key); };
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(Flag(files, "key-file"), " ", files.key_file,
                                                   ": no unencrypted PEM private key (",
                                                   OpenSslError(), ")"));
  }
  if (X509_check_private_key(cert, key) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(Flag(files, "key-file"), " ", files.key_file,
                                                   " is not the key of ", Flag(files, "cert-file"),
                                                   " ", files.cert_file));
  }
  return absl::OkStatus();
}

absl::Status CheckCaBundle(const TlsFiles& files, const std::string& ca_pem) {
  BIO* bio = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
  X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (ca == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(Flag(files, "trusted-ca-file"), " ",
                                                   files.trusted_ca_file, ": no PEM certificate (",
                                                   OpenSslError(), ")"));
  }
  X509_free(ca);
  return absl::OkStatus();
}

struct LoadedFiles {
  std::string cert;
  std::string key;
  std::string ca;  // empty when no trusted_ca_file
};

absl::StatusOr<LoadedFiles> Load(const TlsFiles& files) {
  if (files.cert_file.empty() || files.key_file.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        Flag(files, "cert-file"), " and ", Flag(files, "key-file"), " must both be given (cert: \"",
        files.cert_file, "\", key: \"", files.key_file, "\")"));
  }
  LoadedFiles out;
  absl::StatusOr<std::string> cert = ReadPem(files, "cert-file", files.cert_file);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem(files, "key-file", files.key_file);
  if (!key.ok()) return key.status();
  if (absl::Status s = CheckPair(files, *cert, *key); !s.ok()) return s;
  out.cert = std::move(*cert);
  out.key = std::move(*key);
  if (!files.trusted_ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadPem(files, "trusted-ca-file", files.trusted_ca_file);
    if (!ca.ok()) return ca.status();
    if (absl::Status s = CheckCaBundle(files, *ca); !s.ok()) return s;
    out.ca = std::move(*ca);
  }
  return out;
}

// gRPC re-reads the files every kReloadInterval and uses new contents for the next handshakes
// (connections already open keep theirs). Contents it cannot load leave the previous ones in
// use.
std::shared_ptr<grpc::experimental::CertificateProviderInterface> WatchFiles(
    const TlsFiles& files) {
  return std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      files.key_file, files.cert_file, files.trusted_ca_file,
      static_cast<unsigned int>(absl::ToInt64Seconds(kReloadInterval)));
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files) {
  if (!files.enabled()) return grpc::InsecureServerCredentials();
  if (files.client_cert_auth && files.trusted_ca_file.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(Flag(files, "client-cert-auth"), " needs ",
                                                   Flag(files, "trusted-ca-file"),
                                                   " to verify client certificates against"));
  }
  if (absl::Status s = Load(files).status(); !s.ok()) return s;
  grpc::experimental::TlsServerCredentialsOptions options(WatchFiles(files));
  options.watch_identity_key_cert_pairs();
  if (!files.trusted_ca_file.empty()) options.watch_root_certs();
  options.set_cert_request_type(
      files.client_cert_auth          ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
      : files.trusted_ca_file.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                      // etcd verifies a certificate a client offers against
                                      // the CA even without --client-cert-auth.
                                      : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  return grpc::experimental::TlsServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TlsFiles& files) {
  if (!files.enabled()) return grpc::InsecureChannelCredentials();
  if (absl::Status s = Load(files).status(); !s.ok()) return s;
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(WatchFiles(files));
  options.watch_identity_key_cert_pairs();
  // Without a CA file the system's roots verify the server.
  if (!files.trusted_ca_file.empty()) options.watch_root_certs();
  options.set_verify_server_certs(true);
  options.set_certificate_verifier(
      std::make_shared<grpc::experimental::HostNameCertificateVerifier>());
  return grpc::experimental::TlsCredentials(options);
}

}  // namespace raftkv::transport
