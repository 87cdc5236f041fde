// --auto-tls and --peer-auto-tls: a self-signed certificate generated at start-up, as etcd's
// transport.SelfCert does: an EC P-256 key and a certificate valid for one year whose subject
// alternative names are the hosts of the listen URLs, written as cert.pem and key.pem (0600)
// into a directory of the data dir. Files already there are reused.
//
// Thread-safety: writes files; call from one thread.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace raftkv::server {

struct CertificateFiles {
  std::string cert_file;
  std::string key_file;
};

// `hosts`: IP addresses or DNS names the certificate is for.
absl::StatusOr<CertificateFiles> EnsureSelfSignedCertificate(const std::string& dir,
                                                             const std::vector<std::string>& hosts);

}  // namespace raftkv::server
