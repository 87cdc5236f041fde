// The store's revision rules (etcd-api.md §6), one rule per test.
#include <string>

#include "base/rand.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kv/store_test_util.h"

namespace raftkv::kv {
namespace {

using testing::DelOp;
using ::testing::ElementsAre;
using testing::PutOp;
using testing::PutReq;
using testing::RangeOp;
using testing::RangeReq;
using testing::StoreDriver;
using testing::Wrap;

TEST(StoreRevision, FreshStoreIsAtRevisionOne) {
  Store store;
  EXPECT_EQ(store.revision(), 1);
  EXPECT_EQ(store.Range(RangeReq("a"))->header().revision(), 1);
}

TEST(StoreRevision, EachPutAddsOne) {
  StoreDriver d;
  EXPECT_EQ(d.Put("a", "1").header().revision(), 2);
  EXPECT_EQ(d.Put("b", "1").header().revision(), 3);
  EXPECT_EQ(d.store().revision(), 3);
}

TEST(StoreRevision, PuttingAnIdenticalValueStillAddsOne) {
  StoreDriver d;
  d.Put("a", "same");
  const int64_t before = d.store().revision();
  d.Put("a", "same");
  EXPECT_EQ(d.store().revision(), before + 1);
}

TEST(StoreRevision, DeleteOfSeveralKeysAddsExactlyOne) {
  StoreDriver d;
  d.Put("a", "1");
  d.Put("b", "1");
  d.Put("c", "1");
  const int64_t before = d.store().revision();
  auto response = d.Delete("a", "z");
  EXPECT_EQ(response.deleted(), 3);
  EXPECT_EQ(d.store().revision(), before + 1);
  EXPECT_EQ(response.header().revision(), before + 1);
}

TEST(StoreRevision, DeleteOfNothingLeavesRevisionUnchanged) {
  StoreDriver d;
  d.Put("a", "1");
  const int64_t before = d.store().revision();
  auto response = d.Delete("missing");
  EXPECT_EQ(response.deleted(), 0);
  EXPECT_EQ(response.header().revision(), before);
  EXPECT_EQ(d.store().revision(), before);
}

TEST(StoreRevision, DeleteOfAnAlreadyDeletedKeyLeavesRevisionUnchanged) {
  StoreDriver d;
  d.Put("a", "1");
  d.Delete("a");
  const int64_t before = d.store().revision();
  EXPECT_EQ(d.Delete("a").deleted(), 0);
  EXPECT_EQ(d.store().revision(), before);
}

TEST(StoreRevision, TxnWithWritesAddsOneAndAllWritesShareIt) {
  StoreDriver d;
  d.Put("x", "0");
  const int64_t before = d.store().revision();
  etcdserverpb::TxnRequest txn;
  *txn.add_success() = PutOp("a", "1");
  *txn.add_success() = PutOp("b", "2");
  *txn.add_success() = DelOp("x");
  auto response = d.Txn(txn);
  EXPECT_EQ(response.header().revision(), before + 1);
  EXPECT_EQ(d.store().revision(), before + 1);
  EXPECT_EQ(d.GetOne("a").mod_revision(), before + 1);
  EXPECT_EQ(d.GetOne("b").mod_revision(), before + 1);
}

TEST(StoreRevision, ReadOnlyTxnLeavesRevisionUnchanged) {
  StoreDriver d;
  d.Put("a", "1");
  const int64_t before = d.store().revision();
  etcdserverpb::TxnRequest txn;
  *txn.add_success() = RangeOp("a");
  auto response = d.Txn(txn);
  EXPECT_EQ(response.header().revision(), before);
  EXPECT_EQ(d.store().revision(), before);
}

TEST(StoreRevision, TxnWhoseOnlyWriteDeletesNothingLeavesRevisionUnchanged) {
  StoreDriver d;
  d.Put("a", "1");
  const int64_t before = d.store().revision();
  etcdserverpb::TxnRequest txn;
  *txn.add_success() = DelOp("missing");
  d.Txn(txn);
  EXPECT_EQ(d.store().revision(), before);
}

TEST(StoreRevision, CreateRevisionIsThePutThatCreatedTheKey) {
  StoreDriver d;
  const int64_t created = d.Put("a", "1").header().revision();
  d.Put("other", "x");
  d.Put("a", "2");
  EXPECT_EQ(d.GetOne("a").create_revision(), created);
}

TEST(StoreRevision, ModRevisionIsTheLastWrite) {
  StoreDriver d;
  d.Put("a", "1");
  const int64_t last = d.Put("a", "2").header().revision();
  d.Put("other", "x");
  EXPECT_EQ(d.GetOne("a").mod_revision(), last);
}

TEST(StoreRevision, VersionCountsWritesSinceCreation) {
  StoreDriver d;
  d.Put("a", "1");
  EXPECT_EQ(d.GetOne("a").version(), 1);
  d.Put("a", "2");
  d.Put("a", "3");
  EXPECT_EQ(d.GetOne("a").version(), 3);
}

TEST(StoreRevision, RecreatingADeletedKeyStartsAFreshLife) {
  StoreDriver d;
  d.Put("a", "1");
  d.Put("a", "2");
  d.Delete("a");
  const int64_t recreated = d.Put("a", "3").header().revision();
  const mvccpb::KeyValue kv = d.GetOne("a");
  EXPECT_EQ(kv.create_revision(), recreated);
  EXPECT_EQ(kv.version(), 1);
}

TEST(StoreRevision, PutWithPrevKvReturnsTheReplacedKey) {
  StoreDriver d;
  const int64_t first = d.Put("a", "old").header().revision();
  auto request = PutReq("a", "new");
  request.set_prev_kv(true);
  auto response = d.Apply(Wrap(request));
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->put().prev_kv().value(), "old");
  EXPECT_EQ(response->put().prev_kv().mod_revision(), first);
}

TEST(StoreRevision, PutWithPrevKvOfANewKeyReturnsNone) {
  StoreDriver d;
  auto request = PutReq("a", "new");
  request.set_prev_kv(true);
  auto response = d.Apply(Wrap(request));
  ASSERT_TRUE(response.ok());
  EXPECT_FALSE(response->put().has_prev_kv());
}

TEST(StoreRevision, DeleteWithPrevKvReturnsEveryDeletedKey) {
  StoreDriver d;
  d.Put("a", "1");
  d.Put("b", "2");
  auto request = testing::DelReq("a", "c");
  request.set_prev_kv(true);
  auto response = d.Apply(Wrap(request));
  ASSERT_TRUE(response.ok());
  ASSERT_EQ(response->delete_range().prev_kvs_size(), 2);
  EXPECT_EQ(response->delete_range().prev_kvs(0).value(), "1");
  EXPECT_EQ(response->delete_range().prev_kvs(1).value(), "2");
}

TEST(StoreRevision, PutWithALeaseIsRejectedAndChangesNothing) {
  StoreDriver d;
  auto request = PutReq("a", "1");
  request.set_lease(42);
  auto response = d.Apply(Wrap(request));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(response.status().message(), "etcdserver: requested lease not found");
  EXPECT_EQ(d.store().revision(), 1);
  EXPECT_EQ(d.Get(RangeReq("a")).count(), 0);
}

TEST(StoreRevision, EmptyKeyIsRejected) {
  StoreDriver d;
  auto response = d.Apply(Wrap(PutReq("", "1")));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(response.status().message(), "etcdserver: key is not provided");
  EXPECT_EQ(d.store().revision(), 1);
}

TEST(StoreRevision, IgnoreValueKeepsTheStoredValue) {
  StoreDriver d;
  d.Put("a", "kept");
  auto request = PutReq("a", "");
  request.set_ignore_value(true);
  ASSERT_TRUE(d.Apply(Wrap(request)).ok());
  EXPECT_EQ(d.GetOne("a").value(), "kept");
  EXPECT_EQ(d.GetOne("a").version(), 2);
}

TEST(StoreRevision, IgnoreValueOnAMissingKeyIsKeyNotFound) {
  StoreDriver d;
  auto request = PutReq("a", "");
  request.set_ignore_value(true);
  auto response = d.Apply(Wrap(request));
  EXPECT_EQ(response.status().message(), "etcdserver: key not found");
}

TEST(StoreRevision, RejectedRequestsStillAdvanceTheAppliedIndex) {
  StoreDriver d;
  ASSERT_FALSE(d.Apply(Wrap(PutReq("", "1"))).ok());
  EXPECT_EQ(d.store().applied_index(), 1u);
}

TEST(StoreRevision, AppliedIndexFollowsApplyAndMarkApplied) {
  Store store;
  ASSERT_TRUE(store.Apply(Wrap(PutReq("a", "1")), 5).ok());
  EXPECT_EQ(store.applied_index(), 5u);
  store.MarkApplied(9);
  EXPECT_EQ(store.applied_index(), 9u);
  EXPECT_EQ(store.revision(), 2);
}

TEST(StoreRevisionDeathTest, ApplyingAnOldIndexAgainIsABug) {
  Store store;
  ASSERT_TRUE(store.Apply(Wrap(PutReq("a", "1")), 5).ok());
  EXPECT_DEATH(store.Apply(Wrap(PutReq("a", "2")), 5).IgnoreError(), "invariant");
}

TEST(StoreRevision, CompactionDoesNotChangeTheRevision) {
  StoreDriver d;
  d.Put("a", "1");
  d.Put("a", "2");
  const int64_t before = d.store().revision();
  ASSERT_TRUE(d.Apply(testing::CompactReq(before)).ok());
  EXPECT_EQ(d.store().revision(), before);
  EXPECT_EQ(d.store().compact_revision(), before);
}

// Every member applies the same log; the stores must end byte-identical.
TEST(StoreDeterminism, SameRequestsGiveIdenticalStores) {
  base::Rand rand(20260101);
  StoreDriver a;
  StoreDriver b;
  for (int i = 0; i < 2000; ++i) {
    const std::string key = "k" + std::to_string(rand.Next() % 50);
    const std::string end = "k" + std::to_string(rand.Next() % 50);
    kvpb::Request request;
    switch (rand.Next() % 4) {
      case 0:
      case 1:
        request = Wrap(PutReq(key, std::to_string(rand.Next())));
        break;
      case 2:
        request = Wrap(testing::DelReq(key, end));
        break;
      case 3: {
        etcdserverpb::TxnRequest txn;
        auto* compare = txn.add_compare();
        compare->set_key(key);
        compare->set_target(etcdserverpb::Compare::VERSION);
        compare->set_result(etcdserverpb::Compare::GREATER);
        compare->set_version(static_cast<int64_t>(rand.Next() % 3));
        *txn.add_success() = PutOp(key, "s");
        *txn.add_failure() = DelOp(end);
        request = Wrap(txn);
        break;
      }
    }
    auto ra = a.Apply(request);
    auto rb = b.Apply(request);
    ASSERT_EQ(ra.status(), rb.status());
    if (ra.ok()) {
      ASSERT_EQ(ra->SerializeAsString(), rb->SerializeAsString());
    }
  }
  EXPECT_GT(a.store().revision(), 1000);
  EXPECT_EQ(a.store().Snapshot(), b.store().Snapshot());
  EXPECT_EQ(a.store().HashKV(0)->hash, b.store().HashKV(0)->hash);
}

TEST(StoreDeterminism, HashKVDiffersWhenContentsDiffer) {
  StoreDriver a;
  StoreDriver b;
  a.Put("k", "1");
  b.Put("k", "2");
  EXPECT_NE(a.store().HashKV(0)->hash, b.store().HashKV(0)->hash);
}

TEST(StoreSize, GrowsWithWritesAndShrinksWithCompaction) {
  StoreDriver d;
  const int64_t empty = d.store().size_bytes();
  for (int i = 0; i < 10; ++i) d.Put("a", std::string(100, 'x'));
  const int64_t full = d.store().size_bytes();
  EXPECT_GT(full, empty + 1000);
  ASSERT_TRUE(d.Apply(testing::CompactReq(d.store().revision())).ok());
  EXPECT_LT(d.store().size_bytes(), full / 5);
  EXPECT_THAT(d.Keys(RangeReq("a")), ElementsAre("a"));
}

}  // namespace
}  // namespace raftkv::kv
