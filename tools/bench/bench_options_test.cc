#include "bench_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace raftkv::bench {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Parses a command line (without the program name) into options.
BenchOptions Parse(const std::string& command_line) {
  CLI::App app;
  BenchOptions options;
  DeclareFlags(app, &options);
  app.parse(command_line, /*program_name_included=*/false);
  return options;
}

// The CLI11 error message for a command line that must not parse.
std::string ParseError(const std::string& command_line) {
  try {
    Parse(command_line);
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  return "";
}

TEST(BenchOptionsTest, DefaultsAreOneClientTenThousandPutsToTheLocalMember) {
  BenchOptions options = Parse("put");
  ASSERT_TRUE(ValidateOptions(&options).ok());
  EXPECT_EQ(options.workload, Workload::kPut);
  EXPECT_THAT(options.endpoints, ElementsAre("127.0.0.1:2379"));
  EXPECT_EQ(options.clients, 1);
  EXPECT_EQ(options.conns, 1);
  EXPECT_EQ(options.total, kDefaultTotal);
  EXPECT_FALSE(options.serializable);
  EXPECT_FALSE(options.no_sessions);  // writes are exactly-once unless asked otherwise
}

TEST(BenchOptionsTest, NoSessionsSendsPlainEtcdWrites) {
  EXPECT_TRUE(Parse("put --no-sessions").no_sessions);
  EXPECT_TRUE(Parse("--no-sessions txn-put").no_sessions);
}

TEST(BenchOptionsTest, GeneralFlagsMayFollowTheWorkload) {
  BenchOptions options = Parse(
      "--clients 8 range --consistency s --conns 2 --total 500 --endpoints "
      "http://a:1,b:2 --json out.json --no-progress");
  ASSERT_TRUE(ValidateOptions(&options).ok());
  EXPECT_EQ(options.workload, Workload::kRange);
  EXPECT_TRUE(options.serializable);
  EXPECT_EQ(options.clients, 8);
  EXPECT_EQ(options.conns, 2);
  EXPECT_EQ(options.total, 500u);
  EXPECT_THAT(options.endpoints, ElementsAre("a:1", "b:2"));
  EXPECT_EQ(options.json_path, "out.json");
  EXPECT_TRUE(options.no_progress);
}

TEST(BenchOptionsTest, EachWorkloadHasItsSubcommand) {
  EXPECT_EQ(Parse("txn-put").workload, Workload::kTxnPut);
  EXPECT_EQ(Parse("txn-put").txn_ops, 1);
  EXPECT_EQ(Parse("txn-put --txn-ops 128").txn_ops, 128);
  BenchOptions mix = Parse("mix --read-ratio 0.9 --consistency l");
  EXPECT_EQ(mix.workload, Workload::kMix);
  EXPECT_DOUBLE_EQ(mix.read_ratio, 0.9);
  EXPECT_FALSE(mix.serializable);
}

TEST(BenchOptionsTest, UnknownFlagIsAParseErrorThatNamesIt) {
  EXPECT_THAT(ParseError("put --colour red"), HasSubstr("--colour"));
}

TEST(BenchOptionsTest, AWorkloadIsRequired) {
  EXPECT_THAT(ParseError("--total 5"), HasSubstr("subcommand"));
}

TEST(BenchOptionsTest, TotalAndDurationExcludeEachOther) {
  EXPECT_THAT(ParseError("put --total 5 --duration 2"), HasSubstr("excludes"));
  BenchOptions by_time = Parse("put --duration 2.5");
  ASSERT_TRUE(ValidateOptions(&by_time).ok());
  EXPECT_EQ(by_time.total, 0u);
  EXPECT_DOUBLE_EQ(by_time.duration_s, 2.5);
}

TEST(BenchOptionsTest, OutOfRangeValuesAreRejectedByTheParser) {
  EXPECT_NE(ParseError("put --clients 0"), "");
  EXPECT_NE(ParseError("mix --read-ratio 1.5"), "");
  EXPECT_NE(ParseError("range --consistency x"), "");
  EXPECT_NE(ParseError("txn-put --txn-ops 0"), "");
  // --read-ratio belongs to mix only, --txn-ops to txn-put.
  EXPECT_NE(ParseError("put --read-ratio 0.5"), "");
  EXPECT_NE(ParseError("put --txn-ops 2"), "");
}

TEST(BenchOptionsTest, MoreConnectionsThanClientsIsRejected) {
  BenchOptions options = Parse("put --clients 2 --conns 4");
  absl::Status status = ValidateOptions(&options);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("--conns"));
}

TEST(BenchOptionsTest, KeySpaceMustFitInTheKeySize) {
  BenchOptions too_many = Parse("put --key-size 3 --key-space 1001");
  EXPECT_THAT(std::string(ValidateOptions(&too_many).message()), HasSubstr("--key-space"));
  BenchOptions fits = Parse("put --key-size 3 --key-space 1000");
  EXPECT_TRUE(ValidateOptions(&fits).ok());
}

TEST(BenchOptionsTest, EndpointsMustBeHostAndPort) {
  BenchOptions options = Parse("put --endpoints localhost");
  EXPECT_THAT(std::string(ValidateOptions(&options).message()), HasSubstr("host:port"));
  BenchOptions empty = Parse("put --endpoints ,");
  EXPECT_FALSE(ValidateOptions(&empty).ok());
}

}  // namespace
}  // namespace raftkv::bench
