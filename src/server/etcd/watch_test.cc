// The Watch service's pure pieces: watcher ids, filters, fragments and catch-up from history.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kv/store.h"
#include "server/etcd/watch_catch_up.h"
#include "server/etcd/watch_response.h"
#include "server/etcd/watcher_table.h"

namespace raftkv::server::etcd {
namespace {

using etcdserverpb::WatchCreateRequest;
using etcdserverpb::WatchResponse;

WatchCreateRequest Create(std::string key, std::string range_end = "", int64_t start = 0) {
  WatchCreateRequest create;
  create.set_key(std::move(key));
  create.set_range_end(std::move(range_end));
  create.set_start_revision(start);
  return create;
}

// Applies writes to a store the way the apply loop does.
class StoreWriter {
 public:
  void Put(const std::string& key, const std::string& value) {
    kvpb::Request request;
    request.mutable_put()->set_key(key);
    request.mutable_put()->set_value(value);
    Apply(request);
  }
  void Delete(const std::string& key) {
    kvpb::Request request;
    request.mutable_delete_range()->set_key(key);
    Apply(request);
  }
  void Compact(int64_t revision) {
    kvpb::Request request;
    request.mutable_compaction()->set_revision(revision);
    Apply(request);
  }
  const kv::Store& store() const { return store_; }

 private:
  void Apply(const kvpb::Request& request) {
    auto response = store_.Apply(request, store_.applied_index() + 1);
    ASSERT_TRUE(response.ok()) << response.status();
  }
  kv::Store store_;
};

std::vector<std::string> Keys(const WatchResponse& response) {
  std::vector<std::string> keys;
  for (const auto& event : response.events()) keys.push_back(event.kv().key());
  return keys;
}

TEST(WatcherTable, ServerIdsCountUpFromZeroAndSkipClientIds) {
  WatcherTable table(10);
  WatchCreateRequest chosen = Create("a");
  chosen.set_watch_id(1);
  EXPECT_EQ(table.Add(Create("a"), 5).value(), 0);
  EXPECT_EQ(table.Add(chosen, 5).value(), 1);
  EXPECT_EQ(table.Add(Create("a"), 5).value(), 2);
}

TEST(WatcherTable, DuplicateClientIdIsEtcdsError) {
  WatcherTable table(10);
  WatchCreateRequest chosen = Create("a");
  chosen.set_watch_id(7);
  ASSERT_TRUE(table.Add(chosen, 5).ok());
  auto again = table.Add(chosen, 5);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().message(), "mvcc: duplicate watch ID provided on the WatchStream");
  EXPECT_TRUE(table.Remove(7));
  EXPECT_FALSE(table.Remove(7));
  EXPECT_TRUE(table.Add(chosen, 5).ok());  // free again after cancel
}

TEST(WatcherTable, EmptyRangeAndTooManyWatchersAreRefused) {
  WatcherTable table(1);
  EXPECT_EQ(table.Add(Create("b", "a"), 5).status().message(), "mvcc: watcher range is empty");
  EXPECT_TRUE(table.Add(Create("a", std::string("\0", 1)), 5).ok());  // from-key form
  EXPECT_FALSE(table.Add(Create("c"), 5).ok());
  EXPECT_EQ(table.size(), 1u);
}

TEST(WatcherTable, StartRevisionZeroMeansTheNextRevision) {
  WatcherTable table(10);
  int64_t live = table.Add(Create("a"), 5).value();
  int64_t replay = table.Add(Create("a", "", 2), 5).value();
  EXPECT_EQ(table.Find(live)->next_revision, 6);
  EXPECT_EQ(table.Find(replay)->next_revision, 2);
}

TEST(WatchFilters, NoPutAndNoDelete) {
  mvccpb::Event put, del;
  del.set_type(mvccpb::Event::DELETE);
  WatchCreateRequest no_put = Create("a");
  no_put.add_filters(WatchCreateRequest::NOPUT);
  WatchCreateRequest no_delete = Create("a");
  no_delete.add_filters(WatchCreateRequest::NODELETE);
  EXPECT_FALSE(PassesWatchFilters(no_put, put));
  EXPECT_TRUE(PassesWatchFilters(no_put, del));
  EXPECT_TRUE(PassesWatchFilters(no_delete, put));
  EXPECT_FALSE(PassesWatchFilters(no_delete, del));
  EXPECT_TRUE(PassesWatchFilters(Create("a"), del));
}

TEST(WatchFragments, SmallResponseOrSingleEventIsSentWhole) {
  WatchResponse response;
  response.add_events()->mutable_kv()->set_value(std::string(1000, 'x'));
  auto parts = FragmentWatchResponse(response, 100);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_FALSE(parts[0].fragment());
  response.add_events()->mutable_kv()->set_key("k");
  EXPECT_EQ(FragmentWatchResponse(response, 1 << 20).size(), 1u);
}

TEST(WatchFragments, LargeResponseSplitsWithFragmentOnAllButLast) {
  WatchResponse response;
  response.set_watch_id(3);
  for (int i = 0; i < 10; ++i) {
    auto* kv = response.add_events()->mutable_kv();
    kv->set_key("k" + std::to_string(i));
    kv->set_value(std::string(100, 'v'));
  }
  auto parts = FragmentWatchResponse(response, 350);
  ASSERT_GT(parts.size(), 1u);
  int events = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    EXPECT_EQ(parts[i].fragment(), i + 1 < parts.size());
    EXPECT_EQ(parts[i].watch_id(), 3);
    EXPECT_GE(parts[i].events_size(), 1);
    if (parts[i].events_size() > 1) {
      EXPECT_LT(parts[i].ByteSizeLong(), 350u);
    }
    for (const auto& event : parts[i].events()) {
      EXPECT_EQ(event.kv().key(), "k" + std::to_string(events++));
    }
  }
  EXPECT_EQ(events, 10);
}

TEST(WatchCatchUp, LiveWatcherGetsOnlyNewWritesOnce) {
  StoreWriter w;
  w.Put("a", "old");  // 2
  WatcherTable table(10);
  Watcher& watcher = *table.Find(table.Add(Create("a"), w.store().revision()).value());
  EXPECT_FALSE(CatchUpWatcher(w.store(), watcher, 100).response.has_value());
  w.Put("a", "new");  // 3
  w.Put("b", "x");    // 4
  CatchUpStep step = CatchUpWatcher(w.store(), watcher, 100);
  ASSERT_TRUE(step.response.has_value());
  EXPECT_THAT(Keys(*step.response), ::testing::ElementsAre("a"));
  EXPECT_EQ(step.response->events(0).kv().value(), "new");
  EXPECT_EQ(step.response->header().revision(), 4);
  EXPECT_FALSE(CatchUpWatcher(w.store(), watcher, 100).response.has_value());  // exactly once
  EXPECT_EQ(watcher.next_revision, 5);
}

TEST(WatchCatchUp, ReplayFromHistoryWithPrefixAndPrevKv) {
  StoreWriter w;
  w.Put("p/a", "1");  // 2
  w.Put("q", "1");    // 3
  w.Put("p/a", "2");  // 4
  w.Delete("p/a");    // 5
  WatchCreateRequest create = Create("p/", "p0", 2);
  create.set_prev_kv(true);
  WatcherTable table(10);
  Watcher& watcher = *table.Find(table.Add(create, w.store().revision()).value());
  CatchUpStep step = CatchUpWatcher(w.store(), watcher, 100);
  ASSERT_TRUE(step.response.has_value());
  ASSERT_EQ(step.response->events_size(), 3);
  EXPECT_EQ(step.response->events(1).prev_kv().value(), "1");
  EXPECT_EQ(step.response->events(2).type(), mvccpb::Event::DELETE);
  EXPECT_EQ(step.response->events(2).prev_kv().value(), "2");
}

TEST(WatchCatchUp, SlowWatcherPagesThroughHistoryInOrder) {
  StoreWriter w;
  WatcherTable table(10);
  Watcher& watcher = *table.Find(table.Add(Create("k"), w.store().revision()).value());
  for (int i = 0; i < 25; ++i) w.Put("k", std::to_string(i));
  std::vector<std::string> seen;
  int pages = 0;
  while (auto response = CatchUpWatcher(w.store(), watcher, 10).response) {
    ++pages;
    for (const auto& event : response->events()) seen.push_back(event.kv().value());
    // A cut page says how far it got, not the store revision.
    EXPECT_EQ(response->header().revision(), response->events().rbegin()->kv().mod_revision());
  }
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 25u);
  for (int i = 0; i < 25; ++i) EXPECT_EQ(seen[i], std::to_string(i));
}

TEST(WatchCatchUp, CompactedStartCancelsWithCompactRevision) {
  StoreWriter w;
  for (int i = 0; i < 5; ++i) w.Put("k", std::to_string(i));  // 2..6
  WatcherTable table(10);
  Watcher& behind = *table.Find(table.Add(Create("k"), 2).value());  // next revision 3
  w.Compact(5);  // the watcher fell behind and its next revision went away
  CatchUpStep step = CatchUpWatcher(w.store(), behind, 100);
  EXPECT_TRUE(step.canceled);
  ASSERT_TRUE(step.response.has_value());
  EXPECT_TRUE(step.response->canceled());
  EXPECT_EQ(step.response->compact_revision(), 5);
  EXPECT_EQ(step.response->events_size(), 0);
}

TEST(WatchCatchUp, ManyWatchersOnOneKeyEachSeeTheWrite) {
  StoreWriter w;
  WatcherTable table(1000);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(table.Add(Create("hot"), 1).ok());
  w.Put("hot", "v");
  int notified = 0;
  for (auto& [id, watcher] : table.watchers()) {
    auto response = CatchUpWatcher(w.store(), watcher, 100).response;
    if (response && response->watch_id() == id && response->events_size() == 1) ++notified;
  }
  EXPECT_EQ(notified, 1000);
}

TEST(WatchCatchUp, FilteredPageSendsNothingButAdvances) {
  StoreWriter w;
  WatchCreateRequest create = Create("a");
  create.add_filters(WatchCreateRequest::NOPUT);
  WatcherTable table(10);
  Watcher& watcher = *table.Find(table.Add(create, 1).value());
  w.Put("a", "1");
  EXPECT_FALSE(CatchUpWatcher(w.store(), watcher, 100).response.has_value());
  EXPECT_EQ(watcher.next_revision, 3);
  w.Delete("a");
  auto response = CatchUpWatcher(w.store(), watcher, 100).response;
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->events(0).type(), mvccpb::Event::DELETE);
}

}  // namespace
}  // namespace raftkv::server::etcd
