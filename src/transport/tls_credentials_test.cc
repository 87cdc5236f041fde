// The credentials builder: etcd's TLS flags turn into gRPC credentials, and a wrong file is a
// start-up error naming the flag, not a failed handshake later. The certificates are made at
// run time with the openssl command.
#include "transport/tls_credentials.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "transport/grpc_transport.h"

namespace raftkv::transport {
namespace {

using ::testing::HasSubstr;

class TlsCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/raftkv-tls-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
    // A CA, and one member certificate it signs; a second key that belongs to nothing.
    Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
        "-subj /CN=test-ca -keyout ca.key -out ca.pem");
    Run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-subj /CN=member -keyout member.key -out member.csr");
    Run("openssl x509 -req -in member.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 "
        "-out member.pem");
    Run("openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:prime256v1 -out other.key");
    SignedFor("local", "IP:127.0.0.1");
    SignedFor("elsewhere", "DNS:elsewhere.example");
  }
  void TearDown() override { std::system(absl::StrCat("rm -rf ", dir_).c_str()); }

  void Run(const std::string& command) {
    ASSERT_EQ(std::system(absl::StrCat("cd ", dir_, " && ", command, " 2>/dev/null").c_str()), 0)
        << command;
  }
  // A certificate the CA signs for the subject alternative name `san`.
  void SignedFor(const std::string& name, const std::string& san) {
    Run(absl::StrCat("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ",
                     "-subj /CN=", name, " -keyout ", name, ".key -out ", name, ".csr"));
    Run(absl::StrCat("printf 'subjectAltName=", san,
                     "\\nextendedKeyUsage=serverAuth,clientAuth\\n' > ", name, ".ext"));
    Run(absl::StrCat("openssl x509 -req -in ", name, ".csr -CA ca.pem -CAkey ca.key ",
                     "-CAcreateserial -days 1 -out ", name, ".pem -extfile ", name, ".ext"));
  }
  TlsFiles Signed(const std::string& name) const {
    TlsFiles files = Member();
    files.cert_file = Path(name + ".pem");
    files.key_file = Path(name + ".key");
    files.client_cert_auth = true;
    return files;
  }

  std::string Path(const std::string& name) const { return absl::StrCat(dir_, "/", name); }

  TlsFiles Member() const {
    TlsFiles files;
    files.cert_file = Path("member.pem");
    files.key_file = Path("member.key");
    files.trusted_ca_file = Path("ca.pem");
    return files;
  }

  std::string dir_;
};

TEST_F(TlsCredentialsTest, NoFilesMeansPlainText) {
  TlsFiles none;
  EXPECT_FALSE(none.enabled());
  ASSERT_TRUE(MakeServerCredentials(none).ok());
  ASSERT_TRUE(MakeChannelCredentials(none).ok());
}

TEST_F(TlsCredentialsTest, ValidFilesGiveServerAndChannelCredentials) {
  TlsFiles files = Member();
  files.client_cert_auth = true;
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> server = MakeServerCredentials(files);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_NE(*server, nullptr);
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> channel = MakeChannelCredentials(files);
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_NE(*channel, nullptr);
}

TEST_F(TlsCredentialsTest, MissingCertificateFileNamesTheFlag) {
  TlsFiles files = Member();
  files.flag_prefix = "peer-";
  files.cert_file = Path("absent.pem");
  absl::Status s = MakeServerCredentials(files).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("--peer-cert-file"));
  EXPECT_THAT(s.message(), HasSubstr("absent.pem: cannot open the file"));
}

TEST_F(TlsCredentialsTest, CertificateWithoutKeyIsRefusedAsEtcdDoes) {
  TlsFiles files = Member();
  files.key_file.clear();
  absl::Status s = MakeChannelCredentials(files).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("--cert-file and --key-file must both be given"));
}

TEST_F(TlsCredentialsTest, KeyOfAnotherCertificateIsRefused) {
  TlsFiles files = Member();
  files.key_file = Path("other.key");
  absl::Status s = MakeServerCredentials(files).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("is not the key of --cert-file"));
}

TEST_F(TlsCredentialsTest, FileWithoutPemIsRefused) {
  std::ofstream(Path("garbage.pem")) << "not a certificate\n";
  TlsFiles files = Member();
  files.trusted_ca_file = Path("garbage.pem");
  absl::Status s = MakeServerCredentials(files).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("--trusted-ca-file"));
  EXPECT_THAT(s.message(), HasSubstr("no PEM certificate"));
}

TEST_F(TlsCredentialsTest, ClientCertAuthNeedsTrustedCa) {
  TlsFiles files = Member();
  files.trusted_ca_file.clear();
  files.client_cert_auth = true;
  absl::Status s = MakeServerCredentials(files).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("--client-cert-auth needs --trusted-ca-file"));
}

// A peer port with these credentials, answering the membership.
absl::StatusOr<peerpb::MembersResponse> FetchFromServerWith(
    std::shared_ptr<grpc::ServerCredentials> server,
    std::shared_ptr<grpc::ChannelCredentials> client) {
  GrpcTransportOptions options;
  options.cluster_id = 7;
  options.local_id = 1;
  options.server_credentials = std::move(server);
  options.members = [] { return std::vector<peerpb::Member>{}; };
  GrpcTransport transport(options, /*receiver=*/nullptr);  // no raft traffic in this test
  absl::StatusOr<int> port = transport.Start("127.0.0.1:0");
  if (!port.ok()) return port.status();
  return FetchMembers(absl::StrCat("127.0.0.1:", *port), absl::Seconds(5), std::move(client));
}

TEST_F(TlsCredentialsTest, MutualTlsConnectsWhenTheCertificateNamesTheAddress) {
  absl::StatusOr<peerpb::MembersResponse> answer = FetchFromServerWith(
      *MakeServerCredentials(Signed("local")), *MakeChannelCredentials(Signed("local")));
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->cluster_id(), 7u);
}

TEST_F(TlsCredentialsTest, AServerCertificateForAnotherHostIsRefused) {
  absl::StatusOr<peerpb::MembersResponse> answer = FetchFromServerWith(
      *MakeServerCredentials(Signed("elsewhere")), *MakeChannelCredentials(Signed("local")));
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kUnavailable) << answer.status();
}

TEST_F(TlsCredentialsTest, APlainTextClientIsRefused) {
  absl::StatusOr<peerpb::MembersResponse> answer =
      FetchFromServerWith(*MakeServerCredentials(Signed("local")), nullptr);
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kUnavailable) << answer.status();
}

}  // namespace
}  // namespace raftkv::transport
