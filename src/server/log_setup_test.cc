#include "server/log_setup.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace raftkv::server {
namespace {

TEST(JsonEscapeTest, QuotesBackslashesAndControlCharactersAreEscaped) {
  EXPECT_EQ(JsonEscape("plain"), "plain");
  EXPECT_EQ(JsonEscape("say \"hi\""), "say \\\"hi\\\"");
  EXPECT_EQ(JsonEscape("a\\b"), "a\\\\b");
  EXPECT_EQ(JsonEscape("line1\nline2\r\t"), "line1\\nline2\\r\\t");
  EXPECT_EQ(JsonEscape(std::string("\x01", 1)), "\\u0001");
  EXPECT_EQ(JsonEscape("caf\xc3\xa9"), "caf\xc3\xa9");  // UTF-8 passes through
}

TEST(LogSetupTest, ZapWritesOneEscapedJsonObjectPerLineToTheFile) {
  // MakeServerLogger installs its logger as spdlog's default; later tests in this binary log
  // through the default, so it is put back.
  const std::shared_ptr<spdlog::logger> previous_default = spdlog::default_logger();
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("raftkv_log_setup_test_" + std::to_string(getpid()));
  std::filesystem::remove(path);
  ServerFlags flags;
  flags.name = "n\"1";
  flags.logger = "zap";
  flags.log_outputs = path.string();
  absl::StatusOr<std::shared_ptr<spdlog::logger>> logger = MakeServerLogger(flags);
  ASSERT_TRUE(logger.ok()) << logger.status();
  (*logger)->info("a \"quoted\"\nmessage");
  (*logger)->warn("second");
  (*logger)->flush();
  std::ifstream in(path);
  std::string first, second, third;
  ASSERT_TRUE(std::getline(in, first));
  ASSERT_TRUE(std::getline(in, second));
  EXPECT_FALSE(std::getline(in, third));
  EXPECT_TRUE(first.starts_with("{\"level\":\"info\",\"ts\":\"")) << first;
  EXPECT_NE(first.find("\"name\":\"n\\\"1\""), std::string::npos) << first;
  EXPECT_NE(first.find("\"msg\":\"a \\\"quoted\\\"\\nmessage\"}"), std::string::npos) << first;
  EXPECT_TRUE(second.starts_with("{\"level\":\"warn\"")) << second;
  spdlog::set_default_logger(previous_default);
  std::filesystem::remove(path);
}

TEST(LogSetupTest, UnknownLoggerAndUnopenableFileAreRefused) {
  ServerFlags flags;
  flags.logger = "logrus";
  EXPECT_EQ(MakeServerLogger(flags).status().code(), absl::StatusCode::kInvalidArgument);
  flags.logger = "zap";
  flags.log_outputs = "/dev/null/cannot/be/a/dir.log";
  EXPECT_EQ(MakeServerLogger(flags).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace raftkv::server
