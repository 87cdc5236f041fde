// The sequential specifications: what each operation may observe and what it changes.
#include "lincheck/model.h"

#include <memory>
#include <optional>
#include <string>

#include "gtest/gtest.h"

namespace raftkv::lincheck {
namespace {

Operation Put(std::string key, std::string value) {
  Operation op;
  op.kind = OpKind::kPut;
  op.key = std::move(key);
  op.value = std::move(value);
  return op;
}

Operation Append(std::string key, std::string value) {
  Operation op = Put(std::move(key), std::move(value));
  op.kind = OpKind::kAppend;
  return op;
}

Operation Get(std::string key, std::optional<std::string> output) {
  Operation op;
  op.kind = OpKind::kGet;
  op.key = std::move(key);
  op.output = std::move(output);
  return op;
}

Operation Cas(std::string key, std::optional<std::string> expected, std::string value,
              bool swapped) {
  Operation op;
  op.kind = OpKind::kCas;
  op.key = std::move(key);
  op.expected = std::move(expected);
  op.value = std::move(value);
  op.swapped = swapped;
  return op;
}

Operation Delete(std::string key) {
  Operation op;
  op.kind = OpKind::kDelete;
  op.key = std::move(key);
  return op;
}

Operation Unknown(Operation op) {
  op.status = OpStatus::kUnknown;
  return op;
}

// Applies `ops` in order from the initial state; false as soon as one is rejected.
bool Accepts(const Model& model, std::initializer_list<Operation> ops,
             State* final_state = nullptr) {
  State state = model.Init();
  for (const Operation& op : ops) {
    State next;
    if (!model.Step(state, op, &next)) return false;
    state = std::move(next);
  }
  if (final_state != nullptr) *final_state = state;
  return true;
}

TEST(RegisterModelTest, InitiallyReadsNil) {
  auto model = NewRegisterModel();
  EXPECT_TRUE(Accepts(*model, {Get("", std::nullopt)}));
  EXPECT_FALSE(Accepts(*model, {Get("", "0")}));
}

TEST(RegisterModelTest, ReadReturnsTheLastWrite) {
  auto model = NewRegisterModel();
  EXPECT_TRUE(Accepts(*model, {Put("", "1"), Put("", "2"), Get("", "2")}));
  EXPECT_FALSE(Accepts(*model, {Put("", "1"), Put("", "2"), Get("", "1")}));
}

TEST(RegisterModelTest, SuccessfulCasRequiresTheExpectedValueAndSwaps) {
  auto model = NewRegisterModel();
  EXPECT_TRUE(Accepts(*model, {Put("", "1"), Cas("", "1", "3", true), Get("", "3")}));
  EXPECT_FALSE(Accepts(*model, {Put("", "2"), Cas("", "1", "3", true)}));
}

TEST(RegisterModelTest, FailedCasRequiresADifferentValueAndChangesNothing) {
  auto model = NewRegisterModel();
  EXPECT_TRUE(Accepts(*model, {Put("", "2"), Cas("", "1", "3", false), Get("", "2")}));
  EXPECT_FALSE(Accepts(*model, {Put("", "1"), Cas("", "1", "3", false)}));
  // Jepsen's etcd semantics: a cas against a register never written fails the comparison.
  EXPECT_TRUE(Accepts(*model, {Cas("", "1", "3", false)}));
}

TEST(RegisterModelTest, UnknownCasTakesEffectOnlyIfTheComparisonHolds) {
  auto model = NewRegisterModel();
  EXPECT_TRUE(Accepts(*model, {Put("", "1"), Unknown(Cas("", "1", "3", false)), Get("", "3")}));
  EXPECT_TRUE(Accepts(*model, {Put("", "2"), Unknown(Cas("", "1", "3", true)), Get("", "2")}));
}

TEST(RegisterModelTest, UnknownReadIsAlwaysPossible) {
  auto model = NewRegisterModel();
  EXPECT_TRUE(Accepts(*model, {Unknown(Get("", "7"))}));
}

TEST(RegisterModelTest, EqualHistoriesGiveEqualStates) {
  auto model = NewRegisterModel();
  State a;
  State b;
  ASSERT_TRUE(Accepts(*model, {Put("", "1"), Put("", "2")}, &a));
  ASSERT_TRUE(Accepts(*model, {Put("", "2")}, &b));
  EXPECT_TRUE(model->StatesEqual(a, b));
  EXPECT_EQ(model->HashState(a), model->HashState(b));
}

TEST(KvModelTest, KeysAreIndependent) {
  auto model = NewKvModel();
  EXPECT_TRUE(Accepts(*model, {Put("a", "1"), Put("b", "2"), Get("a", "1"), Get("b", "2")}));
  EXPECT_FALSE(Accepts(*model, {Put("a", "1"), Get("b", "1")}));
}

TEST(KvModelTest, AbsentKeyReadsNilNotEmpty) {
  auto model = NewKvModel();
  EXPECT_TRUE(Accepts(*model, {Get("k", std::nullopt)}));
  EXPECT_FALSE(Accepts(*model, {Get("k", "")}));
  EXPECT_TRUE(Accepts(*model, {Put("k", ""), Get("k", "")}));
}

TEST(KvModelTest, AbsentReadsAsEmptyForPorcupineHistories) {
  auto model = NewKvModel({.absent_reads_as_empty = true});
  EXPECT_TRUE(Accepts(*model, {Get("k", "")}));
  EXPECT_TRUE(Accepts(*model, {Put("k", ""), Get("k", std::nullopt)}));
}

TEST(KvModelTest, AppendConcatenates) {
  auto model = NewKvModel();
  EXPECT_TRUE(Accepts(*model, {Append("k", "x"), Append("k", "y"), Get("k", "xy")}));
  EXPECT_FALSE(Accepts(*model, {Append("k", "x"), Append("k", "y"), Get("k", "yx")}));
}

TEST(KvModelTest, CasOnAbsentKeyExpectsNil) {
  auto model = NewKvModel();
  EXPECT_TRUE(Accepts(*model, {Cas("k", std::nullopt, "v", true), Get("k", "v")}));
  EXPECT_TRUE(Accepts(*model, {Put("k", "a"), Cas("k", std::nullopt, "v", false)}));
}

TEST(KvModelTest, DeleteMakesTheKeyAbsent) {
  auto model = NewKvModel();
  EXPECT_TRUE(Accepts(*model, {Put("k", "v"), Delete("k"), Get("k", std::nullopt)}));
  EXPECT_FALSE(Accepts(*model, {Put("k", "v"), Delete("k"), Get("k", "v")}));
}

TEST(KvModelTest, StateDoesNotDependOnTheOrderKeysWereWritten) {
  auto model = NewKvModel();
  State a;
  State b;
  ASSERT_TRUE(Accepts(*model, {Put("x", "1"), Put("y", "2")}, &a));
  ASSERT_TRUE(Accepts(*model, {Put("y", "2"), Put("x", "1")}, &b));
  EXPECT_TRUE(model->StatesEqual(a, b));
  EXPECT_EQ(model->DescribeState(a), R"({"x": "1", "y": "2"})");
}

TEST(KvModelTest, PartitionsByKey) {
  auto model = NewKvModel();
  const History history = {Put("b", "1"), Get("a", std::nullopt), Get("b", "1")};
  const std::vector<Partition> partitions = model->PartitionHistory(history);
  ASSERT_EQ(partitions.size(), 2u);
  EXPECT_EQ(partitions[0].label, R"(key "a")");
  EXPECT_EQ(partitions[0].ops, std::vector<size_t>({1}));
  EXPECT_EQ(partitions[1].label, R"(key "b")");
  EXPECT_EQ(partitions[1].ops, std::vector<size_t>({0, 2}));
}

TEST(KvModelTest, WholeMapModeKeepsOnePartition) {
  auto model = NewKvModel({.partition_by_key = false});
  const History history = {Put("b", "1"), Get("a", std::nullopt)};
  ASSERT_EQ(model->PartitionHistory(history).size(), 1u);
}

}  // namespace
}  // namespace raftkv::lincheck
