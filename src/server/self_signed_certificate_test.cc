// --auto-tls: the generated certificate is one the credentials builder accepts, names the
// listen hosts, and is reused on a restart.
#include "server/self_signed_certificate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "transport/tls_credentials.h"

namespace raftkv::server {
namespace {

using ::testing::HasSubstr;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string CommandOutput(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  ::pclose(pipe);
  return out;
}

class SelfSignedCertificateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/raftkv-autotls-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(SelfSignedCertificateTest, GeneratesAPairTheCredentialsBuilderAccepts) {
  absl::StatusOr<CertificateFiles> files =
      EnsureSelfSignedCertificate(dir_ + "/fixtures/client", {"127.0.0.1", "localhost"});
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->cert_file, dir_ + "/fixtures/client/cert.pem");
  EXPECT_EQ(files->key_file, dir_ + "/fixtures/client/key.pem");
  transport::TlsFiles tls;
  tls.cert_file = files->cert_file;
  tls.key_file = files->key_file;
  EXPECT_TRUE(transport::MakeServerCredentials(tls).ok());
  const std::string text =
      CommandOutput(absl::StrCat("openssl x509 -noout -text -in ", files->cert_file));
  EXPECT_THAT(text, HasSubstr("IP Address:127.0.0.1"));
  EXPECT_THAT(text, HasSubstr("DNS:localhost"));
  EXPECT_THAT(text, HasSubstr("O = etcd"));
  // The key is readable by its owner only.
  EXPECT_EQ(std::filesystem::status(files->key_file).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST_F(SelfSignedCertificateTest, ARestartReusesTheGeneratedFiles) {
  absl::StatusOr<CertificateFiles> first = EnsureSelfSignedCertificate(dir_, {"127.0.0.1"});
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string cert = Slurp(first->cert_file);
  absl::StatusOr<CertificateFiles> second = EnsureSelfSignedCertificate(dir_, {"127.0.0.1"});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(Slurp(second->cert_file), cert);
}

}  // namespace
}  // namespace raftkv::server
