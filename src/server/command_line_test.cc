#include "server/command_line.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "server/etcd_flag_table.h"

namespace raftkv::server {
namespace {

bool HasWarningAbout(const CommandLine& c, const std::string& text) {
  for (const std::string& w : c.warnings) {
    if (w.find(text) != std::string::npos) return true;
  }
  return false;
}

// A value of the right kind for any etcd flag, so that every flag can be passed.
std::string ArgFor(const EtcdFlag& flag) {
  if (flag.boolean) return "--" + std::string(flag.name);
  return "--" + std::string(flag.name) + "=" + (flag.name.find("urls") != std::string_view::npos
                                                    ? "http://127.0.0.1:2390"
                                                    : "7");
}

TEST(CommandLineTest, EveryAcceptedEtcdFlagParsesAndEachIgnoredOneWarnsOnce) {
  for (const EtcdFlag& flag : EtcdFlags()) {
    if (flag.status == EtcdFlagStatus::kRefused) continue;
    if (flag.name == "name" || flag.name == "initial-cluster" || flag.name == "log-level" ||
        flag.name == "initial-cluster-state") {
      continue;  // string values checked elsewhere; "7" is still accepted by the parser
    }
    if (flag.name == "config-file") continue;  // names a file to read: config_file_test.cc
    CommandLine c = ParseCommandLine({ArgFor(flag)}, {});
    EXPECT_FALSE(c.exit_code.has_value()) << flag.name << ": " << c.message;
    size_t mentions = 0;
    for (const std::string& w : c.warnings) {
      if (w.starts_with("--" + std::string(flag.name) + " ")) ++mentions;
    }
    EXPECT_EQ(mentions, flag.status == EtcdFlagStatus::kIgnored ? 1u : 0u) << flag.name;
  }
}

TEST(CommandLineTest, ATypicalEtcdLaunchScriptIsAccepted) {
  // The static-cluster example of etcd's clustering guide, plus the usual extras.
  CommandLine c = ParseCommandLine(
      {"--name", "infra0", "--initial-advertise-peer-urls", "http://10.0.1.10:2380",
       "--listen-peer-urls", "http://10.0.1.10:2380", "--listen-client-urls",
       "http://10.0.1.10:2379,http://127.0.0.1:2379", "--advertise-client-urls",
       "http://10.0.1.10:2379", "--initial-cluster-token", "etcd-cluster-1", "--initial-cluster",
       "infra0=http://10.0.1.10:2380,infra1=http://10.0.1.11:2380,infra2=http://10.0.1.12:2380",
       "--initial-cluster-state", "new", "--logger", "zap", "--log-outputs", "stderr",
       "--enable-v2=false", "--auto-compaction-retention=1", "--quota-backend-bytes=8589934592",
       "--listen-metrics-urls=http://10.0.1.10:2381"},
      {});
  ASSERT_FALSE(c.exit_code.has_value()) << c.message;
  EXPECT_EQ(c.flags.name, "infra0");
  EXPECT_EQ(c.flags.initial_cluster_token, "etcd-cluster-1");
  EXPECT_EQ(c.flags.listen_client_urls, "http://10.0.1.10:2379,http://127.0.0.1:2379");
  EXPECT_EQ(c.flags.quota_backend_bytes, 8589934592);
  EXPECT_EQ(c.flags.listen_metrics_urls, "http://10.0.1.10:2381");
  EXPECT_TRUE(HasWarningAbout(c, "--enable-v2 has no effect"));
  EXPECT_EQ(c.flags.auto_compaction_retention, "1");
  EXPECT_FALSE(HasWarningAbout(c, "--auto-compaction-retention"));
  EXPECT_EQ(c.flags.logger, "zap");
  EXPECT_EQ(c.flags.log_outputs, "stderr");
}

TEST(CommandLineTest, TheRevisionCheckIntervalIsAHiddenRaftkvOption) {
  CommandLine c = ParseCommandLine({"--auto-compaction-mode", "revision",
                                    "--auto-compaction-retention", "10",
                                    "--auto-compaction-revision-interval", "100ms"},
                                   {});
  ASSERT_FALSE(c.exit_code.has_value()) << c.message;
  EXPECT_EQ(c.flags.auto_compaction_mode, "revision");
  EXPECT_EQ(c.flags.auto_compaction_revision_interval, "100ms");
  CommandLine help = ParseCommandLine({"--help"}, {});
  EXPECT_NE(help.message.find("--auto-compaction-mode"), std::string::npos);
  EXPECT_EQ(help.message.find("--auto-compaction-revision-interval"), std::string::npos);
}

TEST(CommandLineTest, SnapshotTransferTimesAreRaftkvOptionsShownInHelp) {
  CommandLine c = ParseCommandLine(
      {"--snapshot-send-timeout", "20m", "--snapshot-keep-for=1h"}, {});
  ASSERT_FALSE(c.exit_code.has_value()) << c.message;
  EXPECT_EQ(c.flags.snapshot_send_timeout, "20m");
  EXPECT_EQ(c.flags.snapshot_keep_for, "1h");
  CommandLine help = ParseCommandLine({"--help"}, {});
  EXPECT_NE(help.message.find("--snapshot-send-timeout"), std::string::npos);
  EXPECT_NE(help.message.find("--snapshot-keep-for"), std::string::npos);
}

TEST(CommandLineTest, BooleansTakeGoForms) {
  for (const char* arg : {"--enable-v2", "--enable-v2=true", "--enable-v2=false", "-enable-v2",
                          "-enable-v2=false"}) {
    CommandLine c = ParseCommandLine({arg}, {});
    EXPECT_FALSE(c.exit_code.has_value()) << arg << ": " << c.message;
  }
  CommandLine bad = ParseCommandLine({"--enable-v2=maybe"}, {});
  EXPECT_EQ(bad.exit_code, 2);
}

TEST(CommandLineTest, SingleDashIsGoLongForm) {
  CommandLine c = ParseCommandLine({"-name", "n1", "-data-dir=/tmp/x"}, {});
  ASSERT_FALSE(c.exit_code.has_value()) << c.message;
  EXPECT_EQ(c.flags.name, "n1");
  EXPECT_EQ(c.flags.data_dir, "/tmp/x");
}

TEST(CommandLineTest, AFlagEtcdDoesNotHaveExitsWithTwoNamingIt) {
  CommandLine c = ParseCommandLine({"--name", "n1", "--no-such-flag=1"}, {});
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_NE(c.message.find("--no-such-flag"), std::string::npos) << c.message;
}

TEST(CommandLineTest, PreVoteIsOnUnlessTurnedOff) {
  EXPECT_TRUE(ParseCommandLine({}, {}).flags.pre_vote);
  EXPECT_TRUE(ParseCommandLine({"--pre-vote"}, {}).flags.pre_vote);
  EXPECT_FALSE(ParseCommandLine({"--pre-vote=false"}, {}).flags.pre_vote);
  EXPECT_FALSE(ParseCommandLine({}, {"ETCD_PRE_VOTE=false"}).flags.pre_vote);
}

TEST(CommandLineTest, ForceNewClusterIsABooleanAsInEtcd) {
  EXPECT_TRUE(ParseCommandLine({"--force-new-cluster"}, {}).flags.force_new_cluster);
  EXPECT_TRUE(ParseCommandLine({}, {"ETCD_FORCE_NEW_CLUSTER=true"}).flags.force_new_cluster);
  EXPECT_FALSE(ParseCommandLine({"--force-new-cluster=false"}, {}).flags.force_new_cluster);
  EXPECT_FALSE(ParseCommandLine({}, {}).flags.force_new_cluster);
}

TEST(CommandLineTest, EnvironmentFillsUnsetFlags) {
  CommandLine c = ParseCommandLine(
      {"--name", "n1"},
      {"ETCD_INITIAL_CLUSTER=n1=http://127.0.0.1:2380", "ETCD_INITIAL_CLUSTER_STATE=existing",
       "ETCD_HEARTBEAT_INTERVAL=50", "ETCD_ENABLE_V2=false", "PATH=/bin", "ETCDCTL_API=3"});
  ASSERT_FALSE(c.exit_code.has_value()) << c.message;
  EXPECT_EQ(c.flags.name, "n1");
  EXPECT_EQ(c.flags.initial_cluster, "n1=http://127.0.0.1:2380");
  EXPECT_EQ(c.flags.initial_cluster_state, "existing");
  EXPECT_EQ(c.flags.heartbeat_interval_ms, 50);
  EXPECT_TRUE(HasWarningAbout(c, "--enable-v2 has no effect"));
  EXPECT_FALSE(HasWarningAbout(c, "ETCDCTL_API"));
}

TEST(CommandLineTest, AVariableShadowedByAFlagIsRefusedAsEtcdDoes) {
  CommandLine c = ParseCommandLine({"--name", "n1"}, {"ETCD_NAME=n2"});
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_NE(c.message.find("ETCD_NAME"), std::string::npos) << c.message;
}

TEST(CommandLineTest, UnrecognizedEtcdVariablesWarn) {
  CommandLine c = ParseCommandLine({}, {"ETCD_NO_SUCH=1"});
  EXPECT_FALSE(c.exit_code.has_value()) << c.message;
  EXPECT_TRUE(HasWarningAbout(c, "unrecognized environment variable ETCD_NO_SUCH"));
}

TEST(CommandLineTest, BadEnvironmentValueIsAnError) {
  EXPECT_EQ(ParseCommandLine({}, {"ETCD_HEARTBEAT_INTERVAL=soon"}).exit_code, 2);
}

TEST(CommandLineTest, EnvNamesFollowEtcd) {
  EXPECT_EQ(EtcdEnvName("initial-cluster-state"), "ETCD_INITIAL_CLUSTER_STATE");
}

TEST(EtcdFlagTableTest, EveryFlagIsInTheOperationsGuide) {
  std::ifstream in(RAFTKV_SOURCE_DIR "/docs/operations.md");
  ASSERT_TRUE(in) << "docs/operations.md not found";
  std::stringstream text;
  text << in.rdbuf();
  for (const EtcdFlag& flag : EtcdFlags()) {
    EXPECT_NE(text.str().find("| `--" + std::string(flag.name) + "` |"), std::string::npos)
        << "docs/operations.md has no table row for --" << flag.name;
  }
}

}  // namespace
}  // namespace raftkv::server
