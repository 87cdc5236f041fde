// Recording a history with HistoryBuilder, and how operations are described in reports.
#include "lincheck/history.h"

#include <optional>
#include <utility>

#include "gtest/gtest.h"

namespace raftkv::lincheck {
namespace {

TEST(HistoryBuilderTest, NumbersEventsInTheOrderTheyAreRecorded) {
  HistoryBuilder builder;
  const auto put = builder.InvokePut(1, "k", "v");
  const auto get = builder.InvokeGet(2, "k");
  builder.OkGet(get, "v");
  builder.Ok(put);
  const History history = std::move(builder).Finish();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].call, 1);
  EXPECT_EQ(history[0].ret, 4);
  EXPECT_EQ(history[1].call, 2);
  EXPECT_EQ(history[1].ret, 3);
  EXPECT_EQ(history[1].output, "v");
}

TEST(HistoryBuilderTest, RecordsEachOutcome) {
  HistoryBuilder builder;
  const auto cas = builder.InvokeCas(1, "k", std::nullopt, "v");
  builder.OkCas(cas, true);
  builder.Fail(builder.InvokeAppend(2, "k", "x"));
  builder.Unknown(builder.InvokeDelete(3, "k"));
  const History history = std::move(builder).Finish();
  EXPECT_EQ(history[0].status, OpStatus::kOk);
  EXPECT_TRUE(history[0].swapped);
  EXPECT_EQ(history[1].status, OpStatus::kFailed);
  EXPECT_EQ(history[2].status, OpStatus::kUnknown);
}

TEST(HistoryBuilderTest, OperationsLeftOpenBecomeUnknown) {
  HistoryBuilder builder;
  builder.InvokePut(1, "k", "v");
  const History history = std::move(builder).Finish();
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].status, OpStatus::kUnknown);
}

TEST(DescribeOperationTest, ShowsClientKindArgumentsOutcomeAndInterval) {
  HistoryBuilder builder;
  const auto cas = builder.InvokeCas(3, "k", "a", "b");
  builder.OkCas(cas, true);
  const auto get = builder.InvokeGet(4, "k");
  builder.OkGet(get, std::nullopt);
  builder.Unknown(builder.InvokePut(5, "k\n", "v"));
  const History history = std::move(builder).Finish();
  EXPECT_EQ(DescribeOperation(history[0]), R"(c3 cas "k" "a"->"b" = swapped [1,2])");
  EXPECT_EQ(DescribeOperation(history[1]), R"(c4 get "k" = nil [3,4])");
  EXPECT_EQ(DescribeOperation(history[2]), R"(c5 put "k\n" "v" = unknown [5,?])");
}

}  // namespace
}  // namespace raftkv::lincheck
