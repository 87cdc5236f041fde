// Range reads: key forms, limit/count/more, projections, sorting and past revisions.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kv/store_test_util.h"

namespace raftkv::kv {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::RangeReq;
using testing::StoreDriver;

const std::string kNul("\0", 1);

class StoreRange : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* key : {"a", "foo", "foo/1", "foo/2", "fop", "z"})
      d_.Put(key, std::string("v-") + key);
  }
  StoreDriver d_;
};

TEST_F(StoreRange, EmptyRangeEndSelectsOneKey) {
  EXPECT_THAT(d_.Keys(RangeReq("foo")), ElementsAre("foo"));
  EXPECT_EQ(d_.GetOne("foo").value(), "v-foo");
}

TEST_F(StoreRange, MissingKeyReturnsNothing) {
  auto response = d_.Get(RangeReq("nope"));
  EXPECT_THAT(response.kvs(), IsEmpty());
  EXPECT_EQ(response.count(), 0);
}

TEST_F(StoreRange, RangeEndIsExclusive) {
  EXPECT_THAT(d_.Keys(RangeReq("foo", "fop")), ElementsAre("foo", "foo/1", "foo/2"));
}

TEST_F(StoreRange, NulRangeEndSelectsEveryKeyFromKey) {
  EXPECT_THAT(d_.Keys(RangeReq("foo/2", kNul)), ElementsAre("foo/2", "fop", "z"));
}

TEST_F(StoreRange, NulKeyAndNulRangeEndSelectEverything) {
  EXPECT_THAT(d_.Keys(RangeReq(kNul, kNul)), ElementsAre("a", "foo", "foo/1", "foo/2", "fop", "z"));
}

TEST_F(StoreRange, RangeEndNotAfterKeyIsEmpty) {
  EXPECT_THAT(d_.Keys(RangeReq("z", "a")), IsEmpty());
}

TEST_F(StoreRange, LimitTruncatesAndSetsMoreWhileCountIgnoresIt) {
  auto request = RangeReq("foo", "fop");
  request.set_limit(2);
  auto response = d_.Get(request);
  ASSERT_EQ(response.kvs_size(), 2);
  EXPECT_EQ(response.kvs(1).key(), "foo/1");
  EXPECT_TRUE(response.more());
  EXPECT_EQ(response.count(), 3);
}

TEST_F(StoreRange, LimitEqualToMatchesIsNotMore) {
  auto request = RangeReq("foo", "fop");
  request.set_limit(3);
  auto response = d_.Get(request);
  EXPECT_EQ(response.kvs_size(), 3);
  EXPECT_FALSE(response.more());
}

TEST_F(StoreRange, KeysOnlyDropsValuesButKeepsMetadata) {
  auto request = RangeReq("foo");
  request.set_keys_only(true);
  auto response = d_.Get(request);
  ASSERT_EQ(response.kvs_size(), 1);
  EXPECT_EQ(response.kvs(0).value(), "");
  EXPECT_EQ(response.kvs(0).version(), 1);
  EXPECT_GT(response.kvs(0).mod_revision(), 0);
}

TEST_F(StoreRange, CountOnlyReturnsTheCountAndNoKeys) {
  auto request = RangeReq("foo", "fop");
  request.set_count_only(true);
  auto response = d_.Get(request);
  EXPECT_THAT(response.kvs(), IsEmpty());
  EXPECT_EQ(response.count(), 3);
}

TEST_F(StoreRange, DeletedKeysAreNotReturned) {
  d_.Delete("foo/1");
  EXPECT_THAT(d_.Keys(RangeReq("foo", "fop")), ElementsAre("foo", "foo/2"));
}

TEST_F(StoreRange, PastRevisionSeesTheValueThenAndCurrentRevisionInHeader) {
  const int64_t then = d_.store().revision();
  d_.Put("foo", "newer");
  auto request = RangeReq("foo");
  request.set_revision(then);
  auto response = d_.Get(request);
  ASSERT_EQ(response.kvs_size(), 1);
  EXPECT_EQ(response.kvs(0).value(), "v-foo");
  EXPECT_EQ(response.header().revision(), d_.store().revision());
}

TEST_F(StoreRange, PastRevisionSeesKeysDeletedSince) {
  const int64_t then = d_.store().revision();
  d_.Delete("foo", "fop");
  auto request = RangeReq("foo", "fop");
  request.set_revision(then);
  EXPECT_THAT(d_.Keys(request), ElementsAre("foo", "foo/1", "foo/2"));
}

TEST_F(StoreRange, PastRevisionDoesNotSeeLaterKeys) {
  const int64_t then = d_.store().revision();
  d_.Put("foo/3", "x");
  auto request = RangeReq("foo/3");
  request.set_revision(then);
  EXPECT_THAT(d_.Keys(request), IsEmpty());
}

TEST_F(StoreRange, FutureRevisionIsRejected) {
  auto request = RangeReq("foo");
  request.set_revision(d_.store().revision() + 1);
  auto response = d_.store().Range(request);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(response.status().message(),
            "etcdserver: mvcc: required revision is a future revision");
}

TEST_F(StoreRange, RevisionBelowCompactionIsRejected) {
  const int64_t old = d_.store().revision() - 2;
  ASSERT_TRUE(d_.Apply(testing::CompactReq(old + 1)).ok());
  auto request = RangeReq("foo");
  request.set_revision(old);
  auto response = d_.store().Range(request);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(response.status().message(), "etcdserver: mvcc: required revision has been compacted");
}

TEST_F(StoreRange, CompactionRevisionItselfStaysReadable) {
  const int64_t then = d_.store().revision();
  d_.Put("foo", "newer");
  d_.Delete("z");
  ASSERT_TRUE(d_.Apply(testing::CompactReq(then)).ok());
  auto request = RangeReq(kNul, kNul);
  request.set_revision(then);
  EXPECT_THAT(d_.Keys(request), ElementsAre("a", "foo", "foo/1", "foo/2", "fop", "z"));
  EXPECT_EQ(d_.Get(request).kvs(1).value(), "v-foo");
}

TEST_F(StoreRange, CompactingTwiceAtTheSameRevisionIsCompacted) {
  const int64_t rev = d_.store().revision();
  ASSERT_TRUE(d_.Apply(testing::CompactReq(rev)).ok());
  auto again = d_.Apply(testing::CompactReq(rev));
  EXPECT_EQ(again.status().message(), "etcdserver: mvcc: required revision has been compacted");
}

TEST_F(StoreRange, CompactingAFutureRevisionIsRejected) {
  auto response = d_.Apply(testing::CompactReq(d_.store().revision() + 1));
  EXPECT_EQ(response.status().message(),
            "etcdserver: mvcc: required revision is a future revision");
  EXPECT_EQ(d_.store().compact_revision(), 0);
}

TEST_F(StoreRange, EmptyKeyIsRejected) {
  auto response = d_.store().Range(RangeReq(""));
  EXPECT_EQ(response.status().message(), "etcdserver: key is not provided");
}

TEST_F(StoreRange, DescendingByKey) {
  auto request = RangeReq("foo", "fop");
  request.set_sort_order(etcdserverpb::RangeRequest::DESCEND);
  EXPECT_THAT(d_.Keys(request), ElementsAre("foo/2", "foo/1", "foo"));
}

TEST_F(StoreRange, SortTargetWithoutOrderSortsAscending) {
  d_.Put("foo", "rewritten");  // now the newest of the three
  auto request = RangeReq("foo", "fop");
  request.set_sort_target(etcdserverpb::RangeRequest::MOD);
  EXPECT_THAT(d_.Keys(request), ElementsAre("foo/1", "foo/2", "foo"));
}

TEST_F(StoreRange, SortedLimitKeepsTheFirstInSortOrder) {
  auto request = RangeReq("foo", "fop");
  request.set_sort_order(etcdserverpb::RangeRequest::DESCEND);
  request.set_limit(1);
  auto response = d_.Get(request);
  ASSERT_EQ(response.kvs_size(), 1);
  EXPECT_EQ(response.kvs(0).key(), "foo/2");
  EXPECT_TRUE(response.more());
}

TEST_F(StoreRange, MinModRevisionFiltersOlderKeys) {
  const int64_t rev = d_.Put("foo/1", "again").header().revision();
  auto request = RangeReq("foo", "fop");
  request.set_min_mod_revision(rev);
  EXPECT_THAT(d_.Keys(request), ElementsAre("foo/1"));
}

TEST(StoreRangeBytes, KeysAndValuesAreArbitraryBytes) {
  StoreDriver d;
  const std::string key("\x00\xff\x01", 3);
  const std::string value("\x00\x00\xfe", 3);
  d.Put(key, value);
  d.Put(std::string("\xff\xff", 2), "high");
  EXPECT_EQ(d.GetOne(key).value(), value);
  EXPECT_THAT(d.Keys(RangeReq(std::string("\x00", 1), std::string("\x00\xff\x02", 3))),
              ElementsAre(key));
}

}  // namespace
}  // namespace raftkv::kv
