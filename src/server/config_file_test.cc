// --config-file reads etcd 3.4's YAML configuration (embed/config.go, etcd.conf.yml.sample):
// keys are the flag names, TLS settings nest under {client,peer}-transport-security, and with a
// file the other flags and ETCD_* variables are ignored.
#include "server/config_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "server/command_line.h"

namespace raftkv::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("raftkv_config_file_test_" + std::to_string(getpid()) + ".yml");
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::string Write(const std::string& text) {
    std::ofstream(path_) << text;
    return path_.string();
  }
  std::filesystem::path path_;
};

TEST_F(ConfigFileTest, AnEtcdConfigFileSetsTheFlags) {
  const std::string path = Write(
      "# as in etcd.conf.yml.sample\n"
      "name: 'n1'\n"
      "data-dir: /var/lib/n1\n"
      "heartbeat-interval: 50\n"
      "election-timeout: 500\n"
      "listen-client-urls: http://10.0.0.1:2379\n"
      "initial-cluster: n1=http://10.0.0.1:2380,n2=http://10.0.0.2:2380\n"
      "initial-cluster-state: 'new'\n"
      "logger: zap\n"
      "log-outputs: [stderr]\n"
      "wal-dir:\n"
      "enable-v2: true\n");
  CommandLine c = ParseCommandLine({"--config-file", path}, {});
  ASSERT_FALSE(c.exit_code.has_value()) << c.message;
  EXPECT_EQ(c.flags.name, "n1");
  EXPECT_EQ(c.flags.data_dir, "/var/lib/n1");
  EXPECT_EQ(c.flags.heartbeat_interval_ms, 50);
  EXPECT_EQ(c.flags.election_timeout_ms, 500);
  EXPECT_EQ(c.flags.listen_client_urls, "http://10.0.0.1:2379");
  EXPECT_EQ(c.flags.initial_cluster, "n1=http://10.0.0.1:2380,n2=http://10.0.0.2:2380");
  EXPECT_EQ(c.flags.logger, "zap");
  EXPECT_EQ(c.flags.log_outputs, "stderr");
  // An ignored setting warns as its flag would; an empty one is simply unset.
  bool warned_v2 = false;
  for (const std::string& w : c.warnings) warned_v2 = warned_v2 || w.starts_with("--enable-v2 ");
  EXPECT_TRUE(warned_v2);
}

TEST_F(ConfigFileTest, OtherFlagsAndEnvironmentAreIgnoredWithAWarning) {
  const std::string path = Write("name: from-file\n");
  CommandLine c = ParseCommandLine({"--name", "from-flag", "--config-file=" + path},
                                   {"ETCD_DATA_DIR=/from/env"});
  ASSERT_FALSE(c.exit_code.has_value()) << c.message;
  EXPECT_EQ(c.flags.name, "from-file");
  EXPECT_NE(c.flags.data_dir, "/from/env");
  ASSERT_FALSE(c.warnings.empty());
  EXPECT_THAT(c.warnings[0], HasSubstr("the other flags and ETCD_* variables are ignored"));
}

TEST_F(ConfigFileTest, TheFileCanComeFromTheEnvironment) {
  const std::string path = Write("name: env-file\n");
  CommandLine c = ParseCommandLine({}, {"ETCD_CONFIG_FILE=" + path});
  ASSERT_FALSE(c.exit_code.has_value()) << c.message;
  EXPECT_EQ(c.flags.name, "env-file");
  EXPECT_TRUE(c.warnings.empty());
}

TEST_F(ConfigFileTest, TransportSecurityNestsAsInEtcd) {
  absl::StatusOr<ConfigFileArgs> args = ParseConfigYaml(
      "client-transport-security:\n"
      "  cert-file: /c.crt\n"
      "  client-cert-auth: true\n"
      "peer-transport-security:\n"
      "  key-file: /p.key\n"
      "  trusted-ca-file: /ca.crt\n"
      "  allowed-cn: x\n",
      "f.yml");
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_THAT(args->args, ElementsAre("--cert-file=/c.crt", "--client-cert-auth=true",
                                      "--peer-key-file=/p.key", "--peer-trusted-ca-file=/ca.crt"));
  EXPECT_THAT(args->unknown_keys, ElementsAre("peer-transport-security.allowed-cn"));
}

TEST_F(ConfigFileTest, AKeyThatIsNotAnEtcdSettingWarns) {
  const std::string path = Write("name: n1\nno-such-setting: 3\n");
  CommandLine c = ParseCommandLine({"--config-file", path}, {});
  ASSERT_FALSE(c.exit_code.has_value()) << c.message;
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_THAT(c.warnings[0], HasSubstr("no-such-setting is not an etcd setting"));
}

TEST_F(ConfigFileTest, BadFilesStopTheServerNamingTheFile) {
  CommandLine missing = ParseCommandLine({"--config-file", "/no/such/file.yml"}, {});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.message, HasSubstr("/no/such/file.yml"));

  const std::string broken = Write("name: [unclosed\n");
  CommandLine malformed = ParseCommandLine({"--config-file", broken}, {});
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_THAT(malformed.message, HasSubstr("not valid YAML"));

  const std::string nested = Write("name:\n  first: a\n");
  CommandLine shape = ParseCommandLine({"--config-file", nested}, {});
  EXPECT_EQ(shape.exit_code, 2);
  EXPECT_THAT(shape.message, HasSubstr("line 2: name must be a value or a list"));

  // A value the flag refuses is refused the same way from the file.
  const std::string wrong = Write("heartbeat-interval: soon\n");
  EXPECT_EQ(ParseCommandLine({"--config-file", wrong}, {}).exit_code, 2);
}

}  // namespace
}  // namespace raftkv::server
