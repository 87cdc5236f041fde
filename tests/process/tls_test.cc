// TLS with etcd's flags: a three-member cluster whose client and peer URLs are https://, with
// client and peer certificates required (--client-cert-auth, --peer-client-cert-auth), driven
// by etcdctl with --cacert --cert --key. The CAs and certificates are made at run time with
// the openssl command.
#include <httplib.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "process_test_util.h"
#include "transport/grpc_transport.h"
#include "transport/tls_credentials.h"

namespace raftkv::process_test {
namespace {

using ::testing::HasSubstr;

class TlsTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    certs_ = data_dir_ + "/certs";
    ASSERT_EQ(RunCommand("mkdir -p " + certs_).exit_code, 0);
    MakeCa("ca");
    MakeCa("foreign-ca");
    MakeCertificate("ca", "member", "raftkv-member");
    MakeCertificate("ca", "client", "client");
    MakeCertificate("foreign-ca", "intruder", "raftkv-member");
  }

  void OpenSsl(const std::string& args) {
    CommandResult r = RunCommand(absl::StrCat("cd ", certs_, " && openssl ", args));
    ASSERT_EQ(r.exit_code, 0) << args << "\n" << r.output;
  }
  void MakeCa(const std::string& name) {
    OpenSsl(absl::StrCat("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ",
                         "-days 1 -subj /CN=", name, " -keyout ", name, ".key -out ", name,
                         ".pem"));
  }
  // A certificate for 127.0.0.1 usable by servers and clients, signed by `ca`.
  void MakeCertificate(const std::string& ca, const std::string& name, const std::string& cn) {
    OpenSsl(absl::StrCat("req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=",
                         cn, " -keyout ", name, ".key -out ", name, ".csr"));
    CommandResult ext = RunCommand(absl::StrCat(
        "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth,",
        "clientAuth\\n' > ", certs_, "/", name, ".ext"));
    ASSERT_EQ(ext.exit_code, 0) << ext.output;
    OpenSsl(absl::StrCat("x509 -req -in ", name, ".csr -CA ", ca, ".pem -CAkey ", ca,
                         ".key -CAcreateserial -days 1 -out ", name, ".pem -extfile ", name,
                         ".ext"));
  }
  std::string Cert(const std::string& name) const { return certs_ + "/" + name; }

  // Every member's TLS flags, etcd's spelling.
  std::vector<std::string> MemberTlsArgs(const std::string& cert, const std::string& ca) const {
    return {"--cert-file=" + Cert(cert + ".pem"),          "--key-file=" + Cert(cert + ".key"),
            "--trusted-ca-file=" + Cert(ca + ".pem"),      "--client-cert-auth",
            "--peer-cert-file=" + Cert(cert + ".pem"),     "--peer-key-file=" + Cert(cert + ".key"),
            "--peer-trusted-ca-file=" + Cert(ca + ".pem"), "--peer-client-cert-auth",
            "--peer-cert-allowed-cn=raftkv-member"};
  }

  // Three founders with client and peer TLS, and `spares` members to add at run time.
  void StartTlsCluster(int spares = 0) {
    const int total = 3 + spares;
    absl::StatusOr<std::vector<int>> ports = cli::PickFreePorts(2 * total);
    ASSERT_TRUE(ports.ok()) << ports.status();
    cli::LocalClusterOptions options;
    options.size = total;
    options.founders = spares > 0 ? 3 : 0;
    options.client_ports.assign(ports->begin(), ports->begin() + total);
    options.peer_ports.assign(ports->begin() + total, ports->end());
    options.data_dir = data_dir_;
    options.server_path = RAFTKV_SERVER_PATH;
    options.token = "tls-test";
    options.tls = true;
    options.extra_args = MemberTlsArgs("member", "ca");
    options.metrics_ports = metrics_ports_;
    cluster_ = std::make_unique<cli::LocalCluster>(options);
    absl::Status started = cluster_->StartAll();
    ASSERT_TRUE(started.ok()) << started;
    // A linearizable read answers once the founders have elected a leader over TLS.
    ASSERT_TRUE(Eventually([&] { return SecureEtcdctl("get ready", 0).exit_code == 0; }))
        << SecureEtcdctl("get ready", 0).output;
    // Each member announces its client URLs through the log once there is a leader; calls
    // forwarded to the leader need its URL.
    ASSERT_TRUE(Eventually([&] {
      const std::string list = SecureEtcdctl("member list", 0).output;
      for (int i = 0; i < 3; ++i) {
        if (list.find(cluster_->client_url(i)) == std::string::npos) return false;
      }
      return true;
    })) << SecureEtcdctl("member list", 0).output;
  }

  std::string Endpoint(int i) const { return "https://" + cluster_->endpoint(i); }

  CommandResult SecureEtcdctl(const std::string& args, int member,
                              const std::string& client = "client") {
    return RunCommand(absl::StrCat(
        "ETCDCTL_API=3 /usr/bin/etcdctl --dial-timeout=2s ",
        "--command-timeout=5s --cacert=", Cert("ca.pem"), " --cert=", Cert(client + ".pem"),
        " --key=", Cert(client + ".key"), " --endpoints=", Endpoint(member), " ", args));
  }

  transport::TlsFiles PeerFiles(const std::string& cert, const std::string& ca) const {
    transport::TlsFiles files;
    files.cert_file = Cert(cert + ".pem");
    files.key_file = Cert(cert + ".key");
    files.trusted_ca_file = Cert(ca + ".pem");
    return files;
  }
  std::string PeerAddress(int i) const { return cluster_->peer_url(i).substr(8); }

  std::string certs_;
};

TEST_F(TlsTest, HttpsWithoutCertificateOrWithAWrongFileIsAClearStartUpError) {
  const std::string base = absl::StrCat(RAFTKV_SERVER_PATH, " --data-dir ", data_dir_, "/n1");
  CommandResult no_cert = RunCommand(absl::StrCat(
      base,
      " --listen-client-urls https://127.0.0.1:0 --advertise-client-urls https://127.0.0.1:0"));
  EXPECT_NE(no_cert.exit_code, 0);
  EXPECT_THAT(no_cert.output, HasSubstr("TLS key/cert (--cert-file, --key-file) must be provided "
                                        "for client url https://127.0.0.1:0 with HTTPS scheme"));
  CommandResult wrong_key = RunCommand(absl::StrCat(
      base, " --listen-client-urls https://127.0.0.1:0 --advertise-client-urls https://127.0.0.1:0",
      " --cert-file ", Cert("member.pem"), " --key-file ", Cert("client.key")));
  EXPECT_NE(wrong_key.exit_code, 0);
  EXPECT_THAT(wrong_key.output, HasSubstr("is not the key of --cert-file"));
}

TEST_F(TlsTest, EtcdctlWithCaCertAndKeyPutsAndReadsOnEveryMember) {
  absl::StatusOr<std::vector<int>> metrics_ports = cli::PickFreePorts(3);
  ASSERT_TRUE(metrics_ports.ok()) << metrics_ports.status();
  metrics_ports_ = *metrics_ports;
  StartTlsCluster();
  for (int w = 0; w < 3; ++w) {
    const std::string key = absl::StrCat("secure-", w);
    CommandResult put = SecureEtcdctl(absl::StrCat("put ", key, " value-", w), w);
    ASSERT_EQ(put.exit_code, 0) << put.output;
    EXPECT_EQ(put.output, "OK\n");
    for (int r = 0; r < 3; ++r) {
      CommandResult get = SecureEtcdctl("get " + key, r);
      ASSERT_EQ(get.exit_code, 0) << get.output;
      EXPECT_EQ(get.output, absl::StrCat(key, "\nvalue-", w, "\n")) << "read from " << r;
    }
  }
  // A keep-alive on any member reaches the leader (followers forward it to the leader's
  // https:// client URL with their own certificate).
  CommandResult grant = SecureEtcdctl("lease grant 30", 0);
  ASSERT_EQ(grant.exit_code, 0) << grant.output;
  const std::string lease = grant.output.substr(6, grant.output.find(' ', 6) - 6);
  for (int m = 0; m < 3; ++m) {
    CommandResult keep = SecureEtcdctl("lease keep-alive --once " + lease, m);
    EXPECT_EQ(keep.exit_code, 0) << keep.output;
    EXPECT_THAT(keep.output, HasSubstr("keepalived with TTL")) << "member " << m;
  }
  // The members announce their https:// client URLs.
  CommandResult members = SecureEtcdctl("member list", 1);
  ASSERT_EQ(members.exit_code, 0) << members.output;
  for (int i = 0; i < 3; ++i) EXPECT_THAT(members.output, HasSubstr(cluster_->client_url(i)));
  // The status page asks the other members over their https:// client URLs, with this
  // member's certificate.
  httplib::Client http("127.0.0.1", metrics_ports_[0]);
  auto status = http.Get("/status.json");
  ASSERT_TRUE(status);
  int reachable = 0;
  const std::string mark = "\"reachable\":true";
  for (size_t at = status->body.find(mark); at != std::string::npos;
       at = status->body.find(mark, at + 1)) {
    ++reachable;
  }
  EXPECT_EQ(reachable, 3) << status->body;
}

TEST_F(TlsTest, ClientWithoutAcceptedCertificateIsRefusedUnderClientCertAuth) {
  StartTlsCluster();
  ASSERT_EQ(SecureEtcdctl("put guarded yes", 0).exit_code, 0);
  // No client certificate.
  CommandResult anonymous = RunCommand(absl::StrCat(
      "ETCDCTL_API=3 /usr/bin/etcdctl --dial-timeout=1s --command-timeout=1s --cacert=",
      Cert("ca.pem"), " --endpoints=", Endpoint(0), " get guarded"));
  EXPECT_NE(anonymous.exit_code, 0) << anonymous.output;
  EXPECT_THAT(anonymous.output, ::testing::Not(HasSubstr("yes")));
  // A certificate from another CA.
  CommandResult foreign = SecureEtcdctl("get guarded", 0, "intruder");
  EXPECT_NE(foreign.exit_code, 0) << foreign.output;
  EXPECT_THAT(foreign.output, ::testing::Not(HasSubstr("yes")));
  // Plain text on the TLS port.
  CommandResult plain = RunCommand(absl::StrCat(
      "ETCDCTL_API=3 /usr/bin/etcdctl --dial-timeout=1s --command-timeout=1s --endpoints=http://",
      cluster_->endpoint(0), " get guarded"));
  EXPECT_NE(plain.exit_code, 0) << plain.output;
  EXPECT_THAT(plain.output, ::testing::Not(HasSubstr("yes")));
}

TEST_F(TlsTest, PeerPortAcceptsOnlyPeersWithCertificatesOfThePeerCa) {
  StartTlsCluster();
  // A member's own certificate is accepted: the port answers the membership.
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> member =
      transport::MakeChannelCredentials(PeerFiles("member", "ca"));
  ASSERT_TRUE(member.ok()) << member.status();
  absl::StatusOr<peerpb::MembersResponse> answer =
      transport::FetchMembers(PeerAddress(0), absl::Seconds(5), *member);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->members_size(), 3);
  // Plain text, as a forged peer message would arrive without TLS: no answer.
  EXPECT_FALSE(transport::FetchMembers(PeerAddress(0), absl::Seconds(2), nullptr).ok());
  // A certificate signed by another CA (which also cannot verify the member): refused.
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> intruder =
      transport::MakeChannelCredentials(PeerFiles("intruder", "ca"));
  ASSERT_TRUE(intruder.ok()) << intruder.status();
  EXPECT_FALSE(transport::FetchMembers(PeerAddress(0), absl::Seconds(2), *intruder).ok());
  // A certificate of the peer CA with another common name (--peer-cert-allowed-cn).
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> other_cn =
      transport::MakeChannelCredentials(PeerFiles("client", "ca"));
  ASSERT_TRUE(other_cn.ok()) << other_cn.status();
  absl::Status refused =
      transport::FetchMembers(PeerAddress(0), absl::Seconds(2), *other_cn).status();
  EXPECT_THAT(refused.message(), HasSubstr("common name is not raftkv-member")) << refused;
  EXPECT_THAT(RunCommand("cat " + cluster_->log_path(0)).output,
              HasSubstr("refusing the membership"));
  // The cluster still serves.
  EXPECT_EQ(SecureEtcdctl("put after-probes ok", 1).exit_code, 0);
}

TEST_F(TlsTest, MemberWithCertificateOfForeignCaCannotJoin) {
  StartTlsCluster(/*spares=*/1);
  CommandResult add =
      SecureEtcdctl(absl::StrCat("member add n4 --peer-urls=", cluster_->peer_url(3)), 0);
  ASSERT_EQ(add.exit_code, 0) << add.output;
  // n4 trusts the cluster's CA, so it can verify the members, but presents a certificate of
  // another CA: the members refuse it at the handshake.
  std::vector<std::string> args = cluster_->ServerArgs(3);
  const std::vector<std::string> ours = MemberTlsArgs("member", "ca");
  args.resize(args.size() - ours.size());
  for (const std::string& arg : MemberTlsArgs("intruder", "ca")) args.push_back(arg);
  BackgroundCommand n4(absl::StrJoin(args, " "), cluster_->log_path(3));
  ASSERT_TRUE(Eventually([&] { return n4.Output().find("no other member") != std::string::npos; },
                         absl::Seconds(30)))
      << n4.Output();
  EXPECT_THAT(n4.Output(), HasSubstr("--initial-cluster-state existing"));
  // The founders refused the handshake and logged it; the cluster goes on without n4.
  bool logged = false;
  for (int i = 0; i < 3; ++i) {
    CommandResult log = RunCommand("cat " + cluster_->log_path(i));
    logged = logged || log.output.find("Handshake failed") != std::string::npos;
  }
  EXPECT_TRUE(logged);
  EXPECT_EQ(SecureEtcdctl("put without-n4 ok", 2).exit_code, 0);
  CommandResult status = SecureEtcdctl("get without-n4", 0);
  EXPECT_EQ(status.output, "without-n4\nok\n");
}

TEST_F(TlsTest, ReplacedCertificateFilesApplyWithoutARestart) {
  StartTlsCluster();
  ASSERT_EQ(SecureEtcdctl("put rotated yes", 0).exit_code, 0);
  CommandResult before = SecureEtcdctl("get rotated", 0, "intruder");
  ASSERT_NE(before.exit_code, 0) << before.output;
  // The operator adds the other CA to the trusted bundle: the members re-read it.
  ASSERT_EQ(
      RunCommand(absl::StrCat("cat ", Cert("foreign-ca.pem"), " >> ", Cert("ca.pem"))).exit_code,
      0);
  EXPECT_TRUE(Eventually(
      [&] { return SecureEtcdctl("get rotated", 0, "intruder").output == "rotated\nyes\n"; },
      absl::Seconds(30)))
      << SecureEtcdctl("get rotated", 0, "intruder").output;
}

TEST_F(TlsTest, AutoTlsServesClientsAndPeersWithGeneratedCertificates) {
  const int total = 3;
  absl::StatusOr<std::vector<int>> ports = cli::PickFreePorts(2 * total);
  ASSERT_TRUE(ports.ok()) << ports.status();
  cli::LocalClusterOptions options;
  options.size = total;
  options.client_ports.assign(ports->begin(), ports->begin() + total);
  options.peer_ports.assign(ports->begin() + total, ports->end());
  options.data_dir = data_dir_;
  options.server_path = RAFTKV_SERVER_PATH;
  options.token = "auto-tls-test";
  options.tls = true;
  options.extra_args = {"--auto-tls", "--peer-auto-tls"};
  cluster_ = std::make_unique<cli::LocalCluster>(options);
  ASSERT_TRUE(cluster_->StartAll().ok());
  // A self-signed certificate cannot be verified: etcdctl skips verification, as with etcd.
  auto etcdctl = [&](const std::string& args, int member) {
    return RunCommand(absl::StrCat("ETCDCTL_API=3 /usr/bin/etcdctl --dial-timeout=2s ",
                                   "--command-timeout=5s --insecure-transport=false ",
                                   "--insecure-skip-tls-verify --endpoints=", Endpoint(member), " ",
                                   args));
  };
  ASSERT_TRUE(Eventually([&] { return etcdctl("put auto tls", 0).exit_code == 0; }))
      << etcdctl("put auto tls", 0).output;
  // A quorum took the put; the third member may still be making its certificates and starting.
  for (int r = 0; r < 3; ++r) {
    EXPECT_TRUE(Eventually([&] { return etcdctl("get auto", r).exit_code == 0; }))
        << "member " << r << ": " << etcdctl("get auto", r).output;
    EXPECT_EQ(etcdctl("get auto", r).output, "auto\ntls\n") << "member " << r;
  }
  for (int i = 0; i < 3; ++i) {
    for (const char* kind : {"client", "peer"}) {
      for (const char* file : {"cert.pem", "key.pem"}) {
        const std::string path =
            absl::StrCat(cluster_->member_data_dir(i), "/fixtures/", kind, "/", file);
        EXPECT_EQ(::access(path.c_str(), R_OK), 0) << path;
      }
    }
  }
  // Plain text is not served on the https:// port.
  EXPECT_NE(RunCommand(absl::StrCat("ETCDCTL_API=3 /usr/bin/etcdctl --dial-timeout=1s ",
                                    "--command-timeout=1s --endpoints=http://",
                                    cluster_->endpoint(0), " get auto"))
                .exit_code,
            0);
}

}  // namespace
}  // namespace raftkv::process_test
