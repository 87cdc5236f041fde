// Store::Events: the history read back as watch events.
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kv/errors.h"
#include "kv/store_test_util.h"

namespace raftkv::kv {
namespace {

using testing::DelOp;
using testing::PutOp;
using testing::StoreDriver;

const std::string kNul("\0", 1);
constexpr size_t kNoLimit = 1000;

// "PUT key=value@rev" / "DELETE key@rev", so expectations read like the history they check.
std::vector<std::string> Describe(const EventPage& page) {
  std::vector<std::string> out;
  for (const mvccpb::Event& event : page.events) {
    const mvccpb::KeyValue& kv = event.kv();
    if (event.type() == mvccpb::Event::PUT) {
      out.push_back("PUT " + kv.key() + "=" + kv.value() + "@" + std::to_string(kv.mod_revision()));
    } else {
      out.push_back("DELETE " + kv.key() + "@" + std::to_string(kv.mod_revision()));
    }
  }
  return out;
}

EventPage MustEvents(const Store& store, std::string key, std::string range_end, int64_t from,
                     int64_t to, bool prev_kv = false, size_t limit = kNoLimit) {
  auto page = store.Events(key, range_end, from, to, prev_kv, limit);
  EXPECT_TRUE(page.ok()) << page.status();
  return page.ok() ? *page : EventPage();
}

TEST(StoreEvents, PutsAndDeletesOfOneKeyInRevisionOrder) {
  StoreDriver d;
  d.Put("a", "1");  // rev 2
  d.Put("b", "x");  // rev 3
  d.Put("a", "2");  // rev 4
  d.Delete("a");    // rev 5
  d.Put("a", "3");  // rev 6
  EventPage page = MustEvents(d.store(), "a", "", 0, 100);
  EXPECT_THAT(Describe(page),
              ::testing::ElementsAre("PUT a=1@2", "PUT a=2@4", "DELETE a@5", "PUT a=3@6"));
  EXPECT_EQ(page.through, 6);  // clamped to the store revision
}

TEST(StoreEvents, PutCarriesTheFullKeyValueAndDeleteOnlyKeyAndRevision) {
  StoreDriver d;
  d.Put("a", "1");
  d.Put("a", "2");
  d.Delete("a");
  EventPage page = MustEvents(d.store(), "a", "", 0, 100);
  ASSERT_EQ(page.events.size(), 3u);
  const mvccpb::KeyValue& put = page.events[1].kv();
  EXPECT_EQ(put.create_revision(), 2);
  EXPECT_EQ(put.mod_revision(), 3);
  EXPECT_EQ(put.version(), 2);
  const mvccpb::Event& del = page.events[2];
  EXPECT_EQ(del.type(), mvccpb::Event::DELETE);
  EXPECT_EQ(del.kv().mod_revision(), 4);
  EXPECT_EQ(del.kv().create_revision(), 0);
  EXPECT_EQ(del.kv().version(), 0);
  EXPECT_TRUE(del.kv().value().empty());
}

TEST(StoreEvents, IntervalExcludesFromAndIncludesTo) {
  StoreDriver d;
  for (int i = 0; i < 5; ++i) d.Put("k", std::to_string(i));  // revs 2..6
  EXPECT_THAT(Describe(MustEvents(d.store(), "k", "", 3, 5)),
              ::testing::ElementsAre("PUT k=2@4", "PUT k=3@5"));
  EventPage empty = MustEvents(d.store(), "k", "", 6, 10);
  EXPECT_TRUE(empty.events.empty());
  EXPECT_EQ(empty.through, 6);
}

TEST(StoreEvents, RangeAndPrefixAndFromKeyForms) {
  StoreDriver d;
  for (const char* key : {"a", "foo", "foo/1", "fop", "z"}) d.Put(key, "v");  // revs 2..6
  EXPECT_THAT(Describe(MustEvents(d.store(), "foo", "fop", 0, 100)),
              ::testing::ElementsAre("PUT foo=v@3", "PUT foo/1=v@4"));
  EXPECT_THAT(Describe(MustEvents(d.store(), "fop", kNul, 0, 100)),
              ::testing::ElementsAre("PUT fop=v@5", "PUT z=v@6"));
  EXPECT_TRUE(MustEvents(d.store(), "z", "a", 0, 100).events.empty());  // empty interval
}

TEST(StoreEvents, EventsOfManyKeysInterleaveByRevision) {
  StoreDriver d;
  d.Put("p/b", "1");  // 2
  d.Put("p/a", "1");  // 3
  d.Put("p/b", "2");  // 4
  d.Delete("p/a");    // 5
  EXPECT_THAT(Describe(MustEvents(d.store(), "p/", "p0", 0, 100)),
              ::testing::ElementsAre("PUT p/b=1@2", "PUT p/a=1@3", "PUT p/b=2@4", "DELETE p/a@5"));
}

TEST(StoreEvents, TxnWritesShareOneRevisionInKeyOrder) {
  StoreDriver d;
  d.Put("x", "old");  // 2
  etcdserverpb::TxnRequest txn;
  *txn.add_success() = PutOp("y", "1");
  *txn.add_success() = DelOp("x");
  *txn.add_success() = PutOp("w", "1");
  d.Txn(txn);  // 3
  EXPECT_THAT(Describe(MustEvents(d.store(), "a", kNul, 2, 100)),
              ::testing::ElementsAre("PUT w=1@3", "DELETE x@3", "PUT y=1@3"));
}

TEST(StoreEvents, RangeDeleteGivesOneEventPerDeletedKey) {
  StoreDriver d;
  d.Put("r/1", "a");
  d.Put("r/2", "b");
  d.Delete("r/", "r0");  // 4
  EXPECT_THAT(Describe(MustEvents(d.store(), "r/", "r0", 3, 100)),
              ::testing::ElementsAre("DELETE r/1@4", "DELETE r/2@4"));
}

TEST(StoreEvents, PrevKvIsThePreviousLiveVersion) {
  StoreDriver d;
  d.Put("a", "1");  // 2
  d.Put("a", "2");  // 3
  d.Delete("a");    // 4
  d.Put("a", "3");  // 5
  EventPage page = MustEvents(d.store(), "a", "", 0, 100, /*prev_kv=*/true);
  ASSERT_EQ(page.events.size(), 4u);
  EXPECT_FALSE(page.events[0].has_prev_kv());  // created
  EXPECT_EQ(page.events[1].prev_kv().value(), "1");
  EXPECT_EQ(page.events[1].prev_kv().mod_revision(), 2);
  EXPECT_EQ(page.events[2].prev_kv().value(), "2");  // the deleted value
  EXPECT_EQ(page.events[2].prev_kv().version(), 2);
  EXPECT_FALSE(page.events[3].has_prev_kv());  // recreated after a delete
  EXPECT_FALSE(MustEvents(d.store(), "a", "", 0, 100).events[1].has_prev_kv());
}

TEST(StoreEvents, FromBelowCompactRevisionIsCompacted) {
  StoreDriver d;
  d.Put("a", "1");  // 2
  d.Delete("a");    // 3
  d.Put("a", "2");  // 4
  d.Put("a", "3");  // 5
  ASSERT_TRUE(d.Apply(testing::CompactReq(4)).ok());
  auto compacted = d.store().Events("a", "", 3, 100, false, kNoLimit);
  ASSERT_FALSE(compacted.ok());
  EXPECT_EQ(compacted.status(), CompactedError());
  // From the compaction revision on, history is whole, prev_kv included.
  EventPage page = MustEvents(d.store(), "a", "", 4, 100, /*prev_kv=*/true);
  EXPECT_THAT(Describe(page), ::testing::ElementsAre("PUT a=3@5"));
  EXPECT_EQ(page.events[0].prev_kv().value(), "2");
}

TEST(StoreEvents, LimitPagesWithoutSplittingARevision) {
  StoreDriver d;
  d.Put("k/0", "a");  // 2
  etcdserverpb::TxnRequest txn;
  *txn.add_success() = PutOp("k/1", "b");
  *txn.add_success() = PutOp("k/2", "b");
  d.Txn(txn);         // 3: two events
  d.Put("k/3", "c");  // 4
  EventPage first = MustEvents(d.store(), "k/", "k0", 0, 100, false, /*limit=*/2);
  EXPECT_THAT(Describe(first), ::testing::ElementsAre("PUT k/0=a@2", "PUT k/1=b@3", "PUT k/2=b@3"));
  EXPECT_EQ(first.through, 3);
  EventPage second = MustEvents(d.store(), "k/", "k0", first.through, 100, false, 2);
  EXPECT_THAT(Describe(second), ::testing::ElementsAre("PUT k/3=c@4"));
  EXPECT_EQ(second.through, 4);

  EventPage one = MustEvents(d.store(), "k/", "k0", 0, 100, false, /*limit=*/1);
  EXPECT_THAT(Describe(one), ::testing::ElementsAre("PUT k/0=a@2"));
  EXPECT_EQ(one.through, 2);
}

TEST(StoreEvents, ReadingEventsLeavesTheStoreUnchanged) {
  StoreDriver d;
  d.Put("a", "1");
  const std::string before = d.store().Snapshot();
  MustEvents(d.store(), "a", kNul, 0, 100, true);
  EXPECT_EQ(d.store().Snapshot(), before);
}

}  // namespace
}  // namespace raftkv::kv
