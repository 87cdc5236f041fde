// The three history formats: what they mean, and how malformed input is reported.
#include "lincheck/history_file.h"

#include <fstream>
#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lincheck/porcupine_format.h"
#include "lincheck/raftkv_format.h"

namespace raftkv::lincheck {
namespace {

using ::testing::HasSubstr;

// ---- Jepsen ----

TEST(JepsenFormatTest, PairsInvocationsWithCompletionsPerProcess) {
  const absl::StatusOr<History> history = ParseJepsenLog(
      "INFO  jepsen.util - 0\t:invoke\t:write\t4\n"
      "INFO  jepsen.util - 1\t:invoke\t:read\tnil\n"
      "INFO  jepsen.util - 1\t:ok\t:read\t4\n"
      "INFO  jepsen.util - 0\t:ok\t:write\t4\n",
      "log");
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 2u);
  const Operation& write = (*history)[0];
  EXPECT_EQ(write.kind, OpKind::kPut);
  EXPECT_EQ(write.value, "4");
  EXPECT_EQ(write.status, OpStatus::kOk);
  EXPECT_EQ(write.call, 1);
  EXPECT_EQ(write.ret, 4);
  const Operation& read = (*history)[1];
  EXPECT_EQ(read.kind, OpKind::kGet);
  EXPECT_EQ(read.output, "4");
  EXPECT_EQ(read.call, 2);
  EXPECT_EQ(read.ret, 3);
}

TEST(JepsenFormatTest, ReadOfNilMeansNoValue) {
  const absl::StatusOr<History> history = ParseJepsenLog(
      "INFO  jepsen.util - 3\t:invoke\t:read\tnil\n"
      "INFO  jepsen.util - 3\t:ok\t:read\tnil\n",
      "log");
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ((*history)[0].output, std::nullopt);
}

TEST(JepsenFormatTest, FailedCasIsACompletedCasThatDidNotSwap) {
  const absl::StatusOr<History> history = ParseJepsenLog(
      "INFO  jepsen.util - 2\t:invoke\t:cas\t[3 0]\n"
      "INFO  jepsen.util - 2\t:fail\t:cas\t[3 0]\n"
      "INFO  jepsen.util - 2\t:invoke\t:cas\t[1 2]\n"
      "INFO  jepsen.util - 2\t:ok\t:cas\t[1 2]\n",
      "log");
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ((*history)[0].status, OpStatus::kOk);
  EXPECT_EQ((*history)[0].expected, "3");
  EXPECT_EQ((*history)[0].value, "0");
  EXPECT_FALSE((*history)[0].swapped);
  EXPECT_TRUE((*history)[1].swapped);
}

TEST(JepsenFormatTest, TimedOutOperationsAreUnknown) {
  const absl::StatusOr<History> history = ParseJepsenLog(
      "INFO  jepsen.util - 4\t:invoke\t:write\t1\n"
      "INFO  jepsen.util - 4\t:info\t:write\t:timed-out\n"
      "INFO  jepsen.util - 9\t:invoke\t:read\tnil\n"
      "INFO  jepsen.util - 9\t:fail\t:read\t:timed-out\n"
      "INFO  jepsen.util - 14\t:invoke\t:cas\t[1 2]\n",
      "log");
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 3u);
  for (const Operation& op : *history) EXPECT_EQ(op.status, OpStatus::kUnknown);
}

TEST(JepsenFormatTest, FieldsMayBeSeparatedBySpaces) {
  const absl::StatusOr<History> history = ParseJepsenLog(
      "INFO  jepsen.util - 4   :invoke :cas    [1 2]\n"
      "INFO  jepsen.util - 4   :ok     :cas    [1 2]\n",
      "log");
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].expected, "1");
  EXPECT_EQ((*history)[0].value, "2");
  EXPECT_TRUE((*history)[0].swapped);
}

TEST(JepsenFormatTest, EmptyFileIsAnEmptyHistory) {
  const absl::StatusOr<History> history = ParseJepsenLog("", "log");
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_TRUE(history->empty());
}

TEST(JepsenFormatTest, MalformedLinesNameTheLineAndWhatWasExpected) {
  struct Case {
    std::string text;
    std::string message;
  };
  const Case cases[] = {
      {"hello\n", "log:1: expected a Jepsen log line"},
      {"INFO  jepsen.util - 0\t:invoke\t:read\n", "log:1: expected 4 fields"},
      {"INFO  jepsen.util - x\t:invoke\t:read\tnil\n", "log:1: expected an integer process id"},
      {"INFO  jepsen.util - 0\t:begin\t:read\tnil\n", "log:1: expected :invoke, :ok"},
      {"INFO  jepsen.util - 0\t:invoke\t:delete\tnil\n", "log:1: expected :read, :write or :cas"},
      {"INFO  jepsen.util - 0\t:invoke\t:write\tfour\n", "log:1: expected an integer to write"},
      {"INFO  jepsen.util - 0\t:invoke\t:cas\t[1]\n", "log:1: expected `[<from> <to>]`"},
      {"\nINFO  jepsen.util - 0\t:ok\t:read\tnil\n",
       "log:2: process 0 completes an operation it "
       "never invoked"},
      {"INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:invoke\t:read\tnil\n",
       "log:2: client 0 invokes an operation while"},
      {"INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:write\t1\n",
       "log:2: process 0 invoked get but this completion is for put"},
  };
  for (const Case& c : cases) {
    const absl::StatusOr<History> history = ParseJepsenLog(c.text, "log");
    ASSERT_FALSE(history.ok()) << c.text;
    EXPECT_EQ(history.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(history.status().message()), HasSubstr(c.message));
  }
}

// ---- porcupine kv ----

TEST(PorcupineKvFormatTest, ReadsKeysValuesAndResults) {
  const absl::StatusOr<History> history = ParsePorcupineKv(
      R"({:process 3, :type :invoke, :f :append, :key "4", :value "x 3 17 y"}
{:process 1, :type :invoke, :f :get, :key "9", :value nil}
{:process 1, :type :ok, :f :get, :key "9", :value "x 0 0 y"}
{:process 3, :type :ok, :f :append, :key "4", :value "x 3 17 y"}
)",
      "kv");
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].kind, OpKind::kAppend);
  EXPECT_EQ((*history)[0].key, "4");
  EXPECT_EQ((*history)[0].value, "x 3 17 y");
  EXPECT_EQ((*history)[0].client_id, 3);
  EXPECT_EQ((*history)[1].kind, OpKind::kGet);
  EXPECT_EQ((*history)[1].output, "x 0 0 y");
  EXPECT_EQ((*history)[1].ret, 3);
}

TEST(PorcupineKvFormatTest, MalformedLinesNameTheLineAndWhatWasExpected) {
  struct Case {
    std::string text;
    std::string message;
  };
  const Case cases[] = {
      {":process 1\n", "kv:1: expected `{` to open a map"},
      {R"({:process 1, :type :invoke, :f :get, :key "1")", "kv:1: expected `}` to close the map"},
      {R"({:process one, :type :invoke, :f :get, :key "1"})", "kv:1: expected an integer :process"},
      {R"({:process 1, :type :invoke, :f :get})", "kv:1: missing :key"},
      {R"({:process 1, :type :invoke, :f :get, :key "1", :color :red})", "kv:1: unknown field"},
      {R"({:process 1, :type :invoke, :f :get, :key "1})", "kv:1: in :key: unterminated string"},
      {R"({:process 1, :type :invoke, :f :cas, :key "1"})", "kv:1: expected :f :get, :put or"},
      {R"({:process 1, :type :invoke, :f :put, :key "1", :value nil})",
       "kv:1: expected a string :value for :put"},
  };
  for (const Case& c : cases) {
    const absl::StatusOr<History> history = ParsePorcupineKv(c.text, "kv");
    ASSERT_FALSE(history.ok()) << c.text;
    EXPECT_THAT(std::string(history.status().message()), HasSubstr(c.message)) << c.text;
  }
}

// ---- raftkv ----

TEST(RaftkvFormatTest, ReadsEveryKindOfEvent) {
  const absl::StatusOr<History> history = ParseRaftkvHistory(
      "# raftkv-history v1\n"
      "10 1 invoke put \"k\" \"v 1\"\n"
      "11 2 invoke cas \"k\" nil \"w\"\n"
      "12 1 ok put \"k\"\n"
      "13 2 ok cas \"k\" unchanged\n"
      "14 3 invoke get \"k\"\n"
      "15 3 ok get \"k\" \"v 1\"\n"
      "16 4 invoke append \"k\\n\" \"\\\"x\\\"\"\n"
      "17 4 fail append \"k\\n\"\n"
      "18 5 invoke delete \"k\"\n"
      "19 5 info delete \"k\"\n"
      "20 6 invoke put \"j\" \"\"\n",
      "h");
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 6u);
  EXPECT_EQ((*history)[0].value, "v 1");
  EXPECT_EQ((*history)[0].call, 10);
  EXPECT_EQ((*history)[0].ret, 12);
  EXPECT_EQ((*history)[1].expected, std::nullopt);
  EXPECT_FALSE((*history)[1].swapped);
  EXPECT_EQ((*history)[2].output, "v 1");
  EXPECT_EQ((*history)[3].key, "k\n");
  EXPECT_EQ((*history)[3].value, "\"x\"");
  EXPECT_EQ((*history)[3].status, OpStatus::kFailed);
  EXPECT_EQ((*history)[4].status, OpStatus::kUnknown);
  EXPECT_EQ((*history)[5].status, OpStatus::kUnknown);  // never completed
}

TEST(RaftkvFormatTest, MalformedLinesNameTheLineAndWhatWasExpected) {
  struct Case {
    std::string text;
    std::string message;
  };
  const Case cases[] = {
      {"1 1 invoke get\n", "h:1: expected `<time> <client> invoke|ok|fail|info <kind> <key> ...`"},
      {"x 1 invoke get \"k\"\n", "h:1: expected an integer time"},
      {"1 c1 invoke get \"k\"\n", "h:1: expected an integer client id"},
      {"1 1 begin get \"k\"\n", "h:1: expected invoke, ok, fail or info"},
      {"1 1 invoke scan \"k\"\n", "h:1: expected get, put, append, cas or delete"},
      {"1 1 invoke get k\n", "h:1: expected a double-quoted key"},
      {"1 1 invoke put \"k\"\n", "h:1: expected `<time> <client> invoke put <key> <value>`"},
      {"1 1 invoke put \"k\" v\n", "h:1: expected a double-quoted value"},
      {"1 1 invoke cas \"k\" \"a\"\n", "h:1: expected `<time> <client> invoke cas"},
      {"1 1 invoke get \"k\n", "h:1: unterminated string"},
      {"1 1 invoke get \"k\"\n2 1 ok get \"k\"\n", "h:2: expected one result after the key"},
      {"1 1 invoke get \"k\"\n2 1 ok get \"k\" v\n", "h:2: expected the value read"},
      {"1 1 invoke cas \"k\" nil \"v\"\n2 1 ok cas \"k\" yes\n", "h:2: expected swapped or"},
      {"1 1 invoke put \"k\" \"v\"\n2 1 ok put \"k\" \"v\"\n", "h:2: expected nothing after the"},
      {"1 1 ok put \"k\"\n", "h:1: client 1 completes an operation it never invoked"},
      {"1 1 invoke put \"k\" \"v\"\n2 1 ok put \"j\"\n", "h:2: client 1 invoked put \"k\" but"},
      {"5 1 invoke get \"k\"\n4 1 ok get \"k\" nil\n", "h:2: time 4 is earlier than"},
  };
  for (const Case& c : cases) {
    const absl::StatusOr<History> history = ParseRaftkvHistory(c.text, "h");
    ASSERT_FALSE(history.ok()) << c.text;
    EXPECT_THAT(std::string(history.status().message()), HasSubstr(c.message)) << c.text;
  }
}

TEST(RaftkvFormatTest, WriterOutputParsesBackToTheSameHistory) {
  HistoryBuilder builder;
  const auto put = builder.InvokePut(1, "k", "a \"quoted\"\n value");
  const auto cas = builder.InvokeCas(2, "k", std::nullopt, "b");
  builder.Ok(put);
  const auto get = builder.InvokeGet(3, "k");
  builder.OkCas(cas, false);
  builder.OkGet(get, std::nullopt);
  const auto append = builder.InvokeAppend(1, "other", "x");
  builder.Fail(append);
  const auto del = builder.InvokeDelete(2, "k");
  builder.Unknown(del);
  builder.InvokeGet(3, "k");  // left open: unknown
  const History history = std::move(builder).Finish();

  const std::string text = FormatRaftkvHistory(history);
  const absl::StatusOr<History> parsed = ParseRaftkvHistory(text, "written");
  ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << text;
  ASSERT_EQ(parsed->size(), history.size());
  for (size_t i = 0; i < history.size(); ++i) {
    const Operation& a = history[i];
    const Operation& b = (*parsed)[i];
    EXPECT_EQ(DescribeOperation(a), DescribeOperation(b));
    EXPECT_EQ(a.expected, b.expected);
    EXPECT_EQ(a.status, b.status);
    if (a.status != OpStatus::kUnknown) {
      EXPECT_EQ(a.ret, b.ret);
    }
  }
}

TEST(RaftkvFormatTest, WriterKeepsSameTimeEventsOfOneClientInOrder) {
  History history(2);
  history[0].client_id = 1;
  history[0].kind = OpKind::kPut;
  history[0].key = "k";
  history[0].call = 5;
  history[0].ret = 5;
  history[1] = history[0];
  history[1].value = "second";
  const absl::StatusOr<History> parsed =
      ParseRaftkvHistory(FormatRaftkvHistory(history), "written");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->size(), 2u);
}

// ---- detection and files ----

TEST(HistoryFileTest, DetectsEachFormatFromItsFirstLine) {
  EXPECT_EQ(*DetectHistoryFormat("INFO  jepsen.util - 0\t:invoke\t:read\tnil\n", "f"),
            HistoryFormat::kJepsen);
  EXPECT_EQ(*DetectHistoryFormat("\n{:process 0, :type :invoke}\n", "f"),
            HistoryFormat::kPorcupineKv);
  EXPECT_EQ(*DetectHistoryFormat("# raftkv-history v1\n", "f"), HistoryFormat::kRaftkv);
  EXPECT_EQ(*DetectHistoryFormat("# note\n1 1 invoke get \"k\"\n", "f"), HistoryFormat::kRaftkv);
  EXPECT_EQ(*DetectHistoryFormat("", "f"), HistoryFormat::kRaftkv);
}

TEST(HistoryFileTest, UnrecognizableContentIsAnErrorSuggestingFormat) {
  const absl::StatusOr<HistoryFormat> format = DetectHistoryFormat("\n<xml/>\n", "f");
  ASSERT_FALSE(format.ok());
  EXPECT_THAT(std::string(format.status().message()), HasSubstr("f:2: cannot tell"));
  EXPECT_THAT(std::string(format.status().message()), HasSubstr("--format"));
}

TEST(HistoryFileTest, MissingFileIsNotFoundNamingThePath) {
  const std::string path = testing::TempDir() + "/does-not-exist.history";
  const absl::StatusOr<HistoryFile> file = ReadHistoryFile(path);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(file.status().message()), HasSubstr(path));
}

TEST(HistoryFileTest, WrittenFileIsReadBackWithItsFormat) {
  HistoryBuilder builder;
  builder.Ok(builder.InvokePut(1, "k", "v"));
  const History history = std::move(builder).Finish();
  const std::string path = testing::TempDir() + "/written.history";
  ASSERT_TRUE(WriteRaftkvHistoryFile(history, path).ok());
  const absl::StatusOr<HistoryFile> file = ReadHistoryFile(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->format, HistoryFormat::kRaftkv);
  ASSERT_EQ(file->history.size(), 1u);
  EXPECT_EQ(file->history[0].value, "v");
}

TEST(HistoryFileTest, FormatNamesRoundTrip) {
  for (HistoryFormat format : {HistoryFormat::kAuto, HistoryFormat::kJepsen,
                               HistoryFormat::kPorcupineKv, HistoryFormat::kRaftkv}) {
    EXPECT_EQ(HistoryFormatFromName(HistoryFormatName(format)), format);
  }
  EXPECT_EQ(HistoryFormatFromName("yaml"), std::nullopt);
}

}  // namespace
}  // namespace raftkv::lincheck
