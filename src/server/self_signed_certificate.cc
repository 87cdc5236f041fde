#include "server/self_signed_certificate.h"

#include <arpa/inet.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace raftkv::server {
namespace {

bool IsIpAddress(const std::string& host) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

absl::Status WritePem(const std::string& path, mode_t mode, auto write) {
  FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) return absl::InternalError(absl::StrCat("cannot write ", path));
  chmod(path.c_str(), mode);
  const bool ok = write(file) == 1;
  const bool closed = std::fclose(file) == 0;
  if (!ok || !closed) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CertificateFiles> EnsureSelfSignedCertificate(
    const std::string& dir, const std::vector<std::string>& hosts) {
  CertificateFiles files{absl::StrCat(dir, "/cert.pem"), absl::StrCat(dir, "/key.pem")};
  std::error_code error;
  if (std::filesystem::exists(files.cert_file, error) &&
      std::filesystem::exists(files.key_file, error)) {
    return files;
  }
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", error.message()));
  }
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) return absl::InternalError("cannot generate an EC key");
  absl::Cleanup free_key = [key] { EVP_PKEY_free(key); };
  X509* cert = X509_new();
  absl::Cleanup free_cert = [cert] { X509_free(cert); };
  X509_set_version(cert, 2);
  BIGNUM* serial = BN_new();
  BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert));
  BN_free(serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 365L * 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("etcd"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_set_pubkey(cert, key);
  std::vector<std::string> names;
  for (const std::string& host : hosts) {
    names.push_back(absl::StrCat(IsIpAddress(host) ? "IP:" : "DNS:", host));
  }
  X509V3_CTX context;
  X509V3_set_ctx(&context, cert, cert, nullptr, nullptr, 0);
  const std::string extensions[][2] = {{"keyUsage", "critical,digitalSignature,keyEncipherment"},
                                       {"extendedKeyUsage", "serverAuth,clientAuth"},
                                       {"subjectAltName", absl::StrJoin(names, ",")}};
  for (const auto& [extension_name, value] : extensions) {
    if (value.empty()) continue;
    X509_EXTENSION* extension =
        X509V3_EXT_conf(nullptr, &context, extension_name.c_str(), value.c_str());
    if (extension == nullptr) {
      return absl::InternalError(absl::StrCat("cannot build the ", extension_name, " extension"));
    }
    X509_add_ext(cert, extension, -1);
    X509_EXTENSION_free(extension);
  }
  if (X509_sign(cert, key, EVP_sha256()) == 0) {
    return absl::InternalError("cannot sign the self-signed certificate");
  }
  if (absl::Status s = WritePem(files.key_file, 0600,
                                [key](FILE* f) {
                                  return PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr,
                                                              nullptr);
                                });
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          WritePem(files.cert_file, 0644, [cert](FILE* f) { return PEM_write_X509(f, cert); });
      !s.ok()) {
    return s;
  }
  return files;
}

}  // namespace raftkv::server
