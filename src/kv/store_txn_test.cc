// Transactions: compares on every target with every result, both branches, nesting, and the
// request checks etcd makes (duplicate keys, operation counts).
#include <string>
#include <tuple>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kv/errors.h"
#include "kv/store_test_util.h"
#include "kv/validate.h"

namespace raftkv::kv {
namespace {

using etcdserverpb::Compare;
using etcdserverpb::TxnRequest;
using testing::DelOp;
using ::testing::ElementsAre;
using testing::PutOp;
using testing::RangeOp;
using testing::RangeReq;
using testing::StoreDriver;
using testing::TxnOp;
using testing::Wrap;

// The stored key "k" these tests compare against: created at revision 2, rewritten at 3, so
// create=2, mod=3, version=2, value "m", lease 0.
class StoreTxnCompare : public ::testing::TestWithParam<std::tuple<Compare::CompareTarget, int>> {
 protected:
  void SetUp() override {
    d_.Put("k", "a");
    d_.Put("k", "m");
  }

  // A compare of "k" against the stored field shifted by `offset` (-1 below, 0 equal, +1 above).
  static Compare MakeCompare(Compare::CompareTarget target, int offset,
                             Compare::CompareResult result) {
    Compare compare;
    compare.set_key("k");
    compare.set_target(target);
    compare.set_result(result);
    switch (target) {
      case Compare::VERSION:
        compare.set_version(2 + offset);
        break;
      case Compare::CREATE:
        compare.set_create_revision(2 + offset);
        break;
      case Compare::MOD:
        compare.set_mod_revision(3 + offset);
        break;
      case Compare::VALUE:
        compare.set_value(offset < 0 ? "a" : (offset == 0 ? "m" : "z"));
        break;
      case Compare::LEASE:
        compare.set_lease(0 + offset);
        break;
      default:
        break;
    }
    return compare;
  }

  bool Succeeds(const Compare& compare) {
    TxnRequest txn;
    *txn.add_compare() = compare;
    return d_.Txn(txn).succeeded();
  }

  StoreDriver d_;
};

// The stored field is compared to the operand: stored > operand when the operand is below it.
TEST_P(StoreTxnCompare, ResultFollowsTheOrderOfStoredFieldAndOperand) {
  const auto [target, offset] = GetParam();
  const bool stored_greater = offset < 0;
  const bool equal = offset == 0;
  EXPECT_EQ(Succeeds(MakeCompare(target, offset, Compare::EQUAL)), equal);
  EXPECT_EQ(Succeeds(MakeCompare(target, offset, Compare::NOT_EQUAL)), !equal);
  EXPECT_EQ(Succeeds(MakeCompare(target, offset, Compare::GREATER)), stored_greater);
  EXPECT_EQ(Succeeds(MakeCompare(target, offset, Compare::LESS)), !equal && !stored_greater);
}

INSTANTIATE_TEST_SUITE_P(AllTargets, StoreTxnCompare,
                         ::testing::Combine(::testing::Values(Compare::VERSION, Compare::CREATE,
                                                              Compare::MOD, Compare::VALUE,
                                                              Compare::LEASE),
                                            ::testing::Values(-1, 0, 1)),
                         [](const auto& info) {
                           const int offset = std::get<1>(info.param);
                           return Compare::CompareTarget_Name(std::get<0>(info.param)) +
                                  (offset < 0 ? "_OperandBelow"
                                              : (offset == 0 ? "_OperandEqual" : "_OperandAbove"));
                         });

TEST(StoreTxn, ValueCompareOnAMissingKeyAlwaysFails) {
  StoreDriver d;
  for (auto result : {Compare::EQUAL, Compare::NOT_EQUAL, Compare::GREATER, Compare::LESS}) {
    TxnRequest txn;
    Compare* compare = txn.add_compare();
    compare->set_key("missing");
    compare->set_target(Compare::VALUE);
    compare->set_result(result);
    compare->set_value("");
    EXPECT_FALSE(d.Txn(txn).succeeded()) << Compare::CompareResult_Name(result);
  }
}

TEST(StoreTxn, MissingKeyHasVersionZero) {
  StoreDriver d;
  TxnRequest txn;
  Compare* compare = txn.add_compare();
  compare->set_key("missing");
  compare->set_target(Compare::VERSION);
  compare->set_result(Compare::EQUAL);
  compare->set_version(0);
  EXPECT_TRUE(d.Txn(txn).succeeded());
}

TEST(StoreTxn, ExplicitZeroModRevisionComparesAgainstZero) {
  StoreDriver d;
  d.Put("k", "v");
  TxnRequest txn;
  Compare* compare = txn.add_compare();
  compare->set_key("k");
  compare->set_target(Compare::MOD);
  compare->set_result(Compare::GREATER);
  compare->set_mod_revision(0);  // etcdctl's mod("k") > "0"
  EXPECT_TRUE(d.Txn(txn).succeeded());
}

TEST(StoreTxn, CompareOverARangeNeedsEveryKeyToHold) {
  StoreDriver d;
  d.Put("p/1", "x");
  d.Put("p/2", "x");
  d.Put("p/2", "y");
  TxnRequest txn;
  Compare* compare = txn.add_compare();
  compare->set_key("p/");
  compare->set_range_end("p0");
  compare->set_target(Compare::VERSION);
  compare->set_result(Compare::EQUAL);
  compare->set_version(1);
  EXPECT_FALSE(d.Txn(txn).succeeded());
  compare->set_result(Compare::GREATER);
  compare->set_version(0);
  EXPECT_TRUE(d.Txn(txn).succeeded());
}

TEST(StoreTxn, AllComparesMustHold) {
  StoreDriver d;
  d.Put("k", "v");
  TxnRequest txn;
  Compare* holds = txn.add_compare();
  holds->set_key("k");
  holds->set_target(Compare::VALUE);
  holds->set_value("v");
  Compare* fails = txn.add_compare();
  fails->set_key("k");
  fails->set_target(Compare::VERSION);
  fails->set_version(7);
  EXPECT_FALSE(d.Txn(txn).succeeded());
}

TxnRequest BranchTxn(const std::string& expected_value) {
  TxnRequest txn;
  Compare* compare = txn.add_compare();
  compare->set_key("k");
  compare->set_target(Compare::VALUE);
  compare->set_value(expected_value);
  *txn.add_success() = PutOp("won", "yes");
  *txn.add_success() = DelOp("gone-on-success");
  *txn.add_success() = RangeOp("k");
  *txn.add_failure() = PutOp("lost", "yes");
  *txn.add_failure() = DelOp("gone-on-failure");
  *txn.add_failure() = RangeOp("k");
  return txn;
}

TEST(StoreTxn, SuccessBranchRunsWhenComparesHold) {
  StoreDriver d;
  d.Put("k", "v");
  d.Put("gone-on-success", "x");
  d.Put("gone-on-failure", "x");
  auto response = d.Txn(BranchTxn("v"));
  EXPECT_TRUE(response.succeeded());
  ASSERT_EQ(response.responses_size(), 3);
  EXPECT_EQ(response.responses(1).response_delete_range().deleted(), 1);
  EXPECT_EQ(response.responses(2).response_range().kvs(0).value(), "v");
  EXPECT_THAT(d.Keys(RangeReq("a", "zzz")), ElementsAre("gone-on-failure", "k", "won"));
}

TEST(StoreTxn, FailureBranchRunsWhenACompareFails) {
  StoreDriver d;
  d.Put("k", "v");
  d.Put("gone-on-success", "x");
  d.Put("gone-on-failure", "x");
  auto response = d.Txn(BranchTxn("other"));
  EXPECT_FALSE(response.succeeded());
  ASSERT_EQ(response.responses_size(), 3);
  EXPECT_EQ(response.responses(1).response_delete_range().deleted(), 1);
  EXPECT_THAT(d.Keys(RangeReq("a", "zzz")), ElementsAre("gone-on-success", "k", "lost"));
}

TEST(StoreTxn, ReadsInsideATxnSeeItsEarlierWrites) {
  StoreDriver d;
  TxnRequest txn;
  *txn.add_success() = PutOp("a", "fresh");
  *txn.add_success() = RangeOp("a");
  auto response = d.Txn(txn);
  ASSERT_EQ(response.responses_size(), 2);
  ASSERT_EQ(response.responses(1).response_range().kvs_size(), 1);
  EXPECT_EQ(response.responses(1).response_range().kvs(0).value(), "fresh");
}

TEST(StoreTxn, SubResponseHeadersCarryOnlyTheRevision) {
  StoreDriver d;
  TxnRequest txn;
  *txn.add_success() = RangeOp("a");
  *txn.add_success() = PutOp("a", "1");
  auto response = d.Txn(txn);
  const auto& range_header = response.responses(0).response_range().header();
  const auto& put_header = response.responses(1).response_put().header();
  EXPECT_EQ(range_header.revision(), 1);  // before the put
  EXPECT_EQ(put_header.revision(), 2);
  EXPECT_EQ(put_header.cluster_id(), 0u);
  EXPECT_EQ(put_header.member_id(), 0u);
  EXPECT_EQ(put_header.raft_term(), 0u);
}

TEST(StoreTxn, NestedTxnRunsItsOwnBranch) {
  StoreDriver d;
  d.Put("flag", "on");
  TxnRequest inner;
  Compare* compare = inner.add_compare();
  compare->set_key("flag");
  compare->set_target(Compare::VALUE);
  compare->set_value("off");
  *inner.add_success() = PutOp("x", "inner-success");
  *inner.add_failure() = PutOp("x", "inner-failure");
  TxnRequest outer;
  *outer.add_success() = PutOp("y", "outer");
  *outer.add_success() = TxnOp(inner);
  auto response = d.Txn(outer);
  ASSERT_EQ(response.responses_size(), 2);
  EXPECT_FALSE(response.responses(1).response_txn().succeeded());
  EXPECT_EQ(d.GetOne("x").value(), "inner-failure");
  EXPECT_EQ(d.GetOne("x").mod_revision(), d.GetOne("y").mod_revision());
}

TEST(StoreTxn, PuttingTheSameKeyTwiceIsADuplicate) {
  StoreDriver d;
  TxnRequest txn;
  *txn.add_success() = PutOp("a", "1");
  *txn.add_success() = PutOp("a", "2");
  auto response = d.Apply(Wrap(txn));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(response.status().message(), "etcdserver: duplicate key given in txn request");
}

TEST(StoreTxn, PuttingInsideADeletedRangeIsADuplicate) {
  StoreDriver d;
  TxnRequest txn;
  *txn.add_failure() = PutOp("p/1", "1");
  *txn.add_failure() = DelOp("p/", "p0");
  EXPECT_EQ(d.Apply(Wrap(txn)).status().message(),
            "etcdserver: duplicate key given in txn request");
}

TEST(StoreTxn, PutInANestedTxnClashingWithTheOuterOneIsADuplicate) {
  StoreDriver d;
  TxnRequest inner;
  *inner.add_success() = PutOp("a", "inner");
  TxnRequest outer;
  *outer.add_success() = PutOp("a", "outer");
  *outer.add_success() = TxnOp(inner);
  EXPECT_EQ(d.Apply(Wrap(outer)).status().message(),
            "etcdserver: duplicate key given in txn request");
}

// etcd 3.4 accepts this txn and orders the put and the delete by sub-revision; the store keeps one
// version per key and revision, so it refuses it, on the proposer and at apply alike, instead of
// writing the key twice at one revision.
TEST(StoreTxn, ANestedPutThatALaterSiblingDeletesIsADuplicateAndChangesNothing) {
  StoreDriver d;
  d.Put("abd", "1");
  const int64_t revision = d.store().revision();
  TxnRequest puts;
  *puts.add_success() = PutOp("abc", "v");
  TxnRequest deletes;
  *deletes.add_success() = DelOp("ab", std::string(1, '\0'));
  TxnRequest outer;
  *outer.add_success() = TxnOp(puts);
  *outer.add_success() = TxnOp(deletes);
  EXPECT_EQ(d.Apply(Wrap(outer)).status().message(),
            "etcdserver: duplicate key given in txn request");
  EXPECT_EQ(d.store().revision(), revision);
  EXPECT_EQ(d.GetOne("abd").value(), "1");
  EXPECT_EQ(d.Get(RangeReq("abc")).kvs_size(), 0);
}

TEST(StoreTxn, ANestedDeleteThenAPutInsideItInALaterSiblingIsADuplicate) {
  StoreDriver d;
  TxnRequest deletes;
  *deletes.add_failure() = DelOp("k", "l");
  TxnRequest puts;
  *puts.add_failure() = PutOp("k1", "v");
  TxnRequest outer;
  *outer.add_success() = TxnOp(deletes);
  *outer.add_success() = TxnOp(puts);
  EXPECT_EQ(d.Apply(Wrap(outer)).status().message(),
            "etcdserver: duplicate key given in txn request");
}

TEST(StoreTxn, NestedSiblingsWritingDisjointKeysAreAllowed) {
  StoreDriver d;
  d.Put("b", "old");
  TxnRequest puts;
  *puts.add_success() = PutOp("a", "v");
  TxnRequest deletes;
  *deletes.add_success() = DelOp("b", "c");
  TxnRequest outer;
  *outer.add_success() = TxnOp(puts);
  *outer.add_success() = TxnOp(deletes);
  ASSERT_TRUE(d.Apply(Wrap(outer)).ok());
  EXPECT_EQ(d.GetOne("a").value(), "v");
  EXPECT_EQ(d.Get(RangeReq("b")).kvs_size(), 0);
}

TEST(StoreTxn, TheSameKeyOnBothBranchesOfANestedTxnIsAllowed) {
  StoreDriver d;
  TxnRequest inner;
  *inner.add_success() = PutOp("a", "then");
  *inner.add_failure() = PutOp("a", "else");
  TxnRequest outer;
  *outer.add_success() = TxnOp(inner);
  EXPECT_TRUE(d.Apply(Wrap(outer)).ok());
  EXPECT_EQ(d.GetOne("a").value(), "then");
}

TEST(StoreTxn, TheSameKeyOnSuccessAndFailureIsAllowed) {
  StoreDriver d;
  TxnRequest txn;
  *txn.add_success() = PutOp("a", "1");
  *txn.add_failure() = PutOp("a", "2");
  EXPECT_TRUE(d.Apply(Wrap(txn)).ok());
}

TEST(StoreTxn, OverlappingDeletesAreAllowedAndCountEachKeyOnce) {
  StoreDriver d;
  d.Put("a", "1");
  d.Put("b", "1");
  TxnRequest txn;
  *txn.add_success() = DelOp("a", "c");
  *txn.add_success() = DelOp("b");
  auto response = d.Txn(txn);
  EXPECT_EQ(response.responses(0).response_delete_range().deleted(), 2);
  EXPECT_EQ(response.responses(1).response_delete_range().deleted(), 0);
}

TEST(StoreTxn, TheOperationLimitIsTheApisAndTheStoreAppliesWhatALogEntryHolds) {
  TxnRequest txn;
  for (int i = 0; i <= kMaxTxnOps; ++i) *txn.add_success() = RangeOp("k" + std::to_string(i));
  // etcd's --max-txn-ops (default 128) is checked before proposing...
  EXPECT_EQ(ValidateTxn(txn).message(), "etcdserver: too many operations in txn request");
  EXPECT_EQ(ValidateTxn(txn, kMaxTxnOps + 1), absl::OkStatus());
  // ...by the member that took the request, under its own flag; every member applies the entry.
  StoreDriver d;
  absl::StatusOr<kvpb::Response> applied = d.Apply(Wrap(txn));
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(applied->txn().responses_size(), kMaxTxnOps + 1);
}

TEST(StoreTxn, ARejectedOperationOnTheTakenPathLeavesNoTrace) {
  StoreDriver d;
  TxnRequest txn;
  *txn.add_success() = PutOp("a", "1");
  etcdserverpb::RequestOp leased = PutOp("b", "1");
  leased.mutable_request_put()->set_lease(5);
  *txn.add_success() = leased;
  auto response = d.Apply(Wrap(txn));
  EXPECT_EQ(response.status().message(), "etcdserver: requested lease not found");
  EXPECT_EQ(d.store().revision(), 1);
  EXPECT_EQ(d.Get(RangeReq("a")).count(), 0);
}

TEST(StoreTxn, AnOperationOnTheUntakenBranchIsNotChecked) {
  StoreDriver d;
  TxnRequest txn;
  etcdserverpb::RequestOp leased = PutOp("b", "1");
  leased.mutable_request_put()->set_lease(5);
  *txn.add_failure() = leased;
  EXPECT_TRUE(d.Apply(Wrap(txn)).ok());
}

TEST(StoreTxn, RangeAtACompactedRevisionFailsTheTxn) {
  StoreDriver d;
  d.Put("a", "1");
  d.Put("a", "2");
  ASSERT_TRUE(d.Apply(testing::CompactReq(3)).ok());
  TxnRequest txn;
  etcdserverpb::RequestOp old = RangeOp("a");
  old.mutable_request_range()->set_revision(2);
  *txn.add_success() = old;
  EXPECT_EQ(d.Apply(Wrap(txn)).status().message(),
            "etcdserver: mvcc: required revision has been compacted");
}

TEST(StoreReadTxn, AnswersExactlyAsApplyWouldWithoutApplying) {
  StoreDriver d;
  d.Put("k", "v");
  d.Put("p/1", "x");
  TxnRequest inner;
  *inner.add_success() = RangeOp("p/", "p0");
  TxnRequest txn;
  Compare* compare = txn.add_compare();
  compare->set_key("k");
  compare->set_target(Compare::VALUE);
  compare->set_value("v");
  *txn.add_success() = RangeOp("k");
  *txn.add_success() = TxnOp(inner);
  *txn.add_failure() = RangeOp("nothing");
  ASSERT_TRUE(TxnIsReadOnly(txn));
  const uint64_t applied = d.store().applied_index();
  auto read = d.store().ReadTxn(txn);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(d.store().applied_index(), applied);
  const etcdserverpb::TxnResponse applied_response = d.Txn(txn);
  EXPECT_EQ(read->SerializeAsString(), applied_response.SerializeAsString());
}

TEST(StoreReadTxn, RefusesATxnThatWrites) {
  StoreDriver d;
  TxnRequest txn;
  TxnRequest inner;
  *inner.add_failure() = DelOp("k");
  *txn.add_success() = TxnOp(inner);
  EXPECT_FALSE(TxnIsReadOnly(txn));
  EXPECT_EQ(d.store().ReadTxn(txn).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(StoreReadTxn, SerializableOnlyWhenEveryRangeIsSerializable) {
  TxnRequest txn;
  etcdserverpb::RequestOp range = RangeOp("k");
  range.mutable_request_range()->set_serializable(true);
  *txn.add_success() = range;
  EXPECT_TRUE(TxnIsSerializable(txn));
  *txn.add_failure() = RangeOp("k");
  EXPECT_FALSE(TxnIsSerializable(txn));
}

TEST(StoreTxn, EmptyCompareKeyIsRejected) {
  StoreDriver d;
  TxnRequest txn;
  txn.add_compare()->set_target(Compare::VERSION);
  EXPECT_EQ(d.Apply(Wrap(txn)).status().message(), "etcdserver: key is not provided");
}

}  // namespace
}  // namespace raftkv::kv
