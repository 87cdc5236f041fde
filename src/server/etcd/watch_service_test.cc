// etcd's Watch service through a real in-process gRPC server over the single-member test
// backend: what clientv3 and etcdctl rely on, response by response.
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "fmt/format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/etcd/test_backend.h"

namespace raftkv::server::etcd {
namespace {

using etcdserverpb::WatchCreateRequest;
using etcdserverpb::WatchRequest;
using etcdserverpb::WatchResponse;
using testing::TestBackend;
using testing::TestServer;

WatchCreateRequest Create(std::string key, std::string range_end = "", int64_t start = 0) {
  WatchCreateRequest create;
  create.set_key(std::move(key));
  create.set_range_end(std::move(range_end));
  create.set_start_revision(start);
  return create;
}

// One Watch call. Every read has the call's deadline, so a missing response fails the test
// instead of hanging it.
class WatchClient {
 public:
  explicit WatchClient(const std::shared_ptr<grpc::Channel>& channel)
      : stub_(etcdserverpb::Watch::NewStub(channel)) {
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    stream_ = stub_->Watch(&context_);
  }
  ~WatchClient() {
    if (finished_) return;
    context_.TryCancel();
    WatchResponse ignored;
    while (stream_->Read(&ignored)) {
    }
    stream_->Finish().IgnoreError();
  }

  void Send(const WatchRequest& request) { ASSERT_TRUE(stream_->Write(request)); }

  // Sends a create request and returns the response to it (its created response).
  WatchResponse Watch(const WatchCreateRequest& create) {
    WatchRequest request;
    *request.mutable_create_request() = create;
    Send(request);
    WatchResponse created = Next();
    EXPECT_TRUE(created.created()) << created.DebugString();
    return created;
  }

  void Cancel(int64_t watch_id) {
    WatchRequest request;
    request.mutable_cancel_request()->set_watch_id(watch_id);
    Send(request);
  }

  void RequestProgress() {
    WatchRequest request;
    request.mutable_progress_request();
    Send(request);
  }

  WatchResponse Next() {
    WatchResponse response;
    EXPECT_TRUE(stream_->Read(&response)) << "the stream ended or the deadline passed";
    return response;
  }

  // Asks for progress and returns every response before the answer (watch_id -1, no events):
  // the answer comes only once every watcher was sent everything up to the store revision, so
  // this is all the stream had to say.
  std::vector<WatchResponse> UntilProgress(int64_t* revision = nullptr) {
    RequestProgress();
    std::vector<WatchResponse> before;
    while (true) {
      WatchResponse response = Next();
      if (response.watch_id() == -1 && response.events_size() == 0 && !response.created()) {
        if (revision != nullptr) *revision = response.header().revision();
        return before;
      }
      if (::testing::Test::HasFailure()) return before;
      before.push_back(std::move(response));
    }
  }

  grpc::Status Finish() {
    WatchResponse ignored;
    while (stream_->Read(&ignored)) {
    }
    finished_ = true;
    return stream_->Finish();
  }

 private:
  std::unique_ptr<etcdserverpb::Watch::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<WatchRequest, WatchResponse>> stream_;
  bool finished_ = false;
};

// "PUT key=value rev" / "DELETE key rev" for each event, in order.
std::vector<std::string> Describe(const std::vector<WatchResponse>& responses) {
  std::vector<std::string> out;
  for (const WatchResponse& response : responses) {
    for (const mvccpb::Event& event : response.events()) {
      if (event.type() == mvccpb::Event::PUT) {
        out.push_back(fmt::format("PUT {}={} @{}", event.kv().key(), event.kv().value(),
                                  event.kv().mod_revision()));
      } else {
        out.push_back(fmt::format("DELETE {} @{}", event.kv().key(), event.kv().mod_revision()));
      }
    }
  }
  return out;
}

class WatchServiceTest : public ::testing::Test {
 protected:
  explicit WatchServiceTest(ClientApiOptions options = {})
      : server_(std::move(options)), kv_(etcdserverpb::KV::NewStub(server_.NewChannel())) {}

  int64_t Put(const std::string& key, const std::string& value) {
    etcdserverpb::PutRequest request;
    request.set_key(key);
    request.set_value(value);
    etcdserverpb::PutResponse response;
    grpc::ClientContext context;
    grpc::Status status = kv_->Put(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.header().revision();
  }
  void Delete(const std::string& key) {
    etcdserverpb::DeleteRangeRequest request;
    request.set_key(key);
    etcdserverpb::DeleteRangeResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(kv_->DeleteRange(&context, request, &response).ok());
  }
  void Compact(int64_t revision) {
    etcdserverpb::CompactionRequest request;
    request.set_revision(revision);
    etcdserverpb::CompactionResponse response;
    grpc::ClientContext context;
    grpc::Status status = kv_->Compact(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  std::unique_ptr<WatchClient> NewClient() {
    return std::make_unique<WatchClient>(server_.NewChannel());
  }

  TestServer server_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
};

TEST_F(WatchServiceTest, CreateAnswersCreatedWithAFullHeaderThenSendsLiveEvents) {
  Put("other", "x");  // revision 2
  auto client = NewClient();
  WatchResponse created = client->Watch(Create("a"));
  EXPECT_EQ(created.watch_id(), 0);
  EXPECT_FALSE(created.canceled());
  EXPECT_EQ(created.header().revision(), 2);
  EXPECT_EQ(created.header().cluster_id(), TestBackend::kClusterId);
  EXPECT_EQ(created.header().member_id(), TestBackend::kMemberId);
  EXPECT_EQ(created.header().raft_term(), TestBackend::kTerm);

  Put("a", "1");  // 3
  Put("b", "1");  // 4, not watched
  Put("a", "2");  // 5
  WatchResponse first = client->Next();
  EXPECT_EQ(first.watch_id(), 0);
  EXPECT_EQ(first.header().cluster_id(), TestBackend::kClusterId);
  std::vector<WatchResponse> events = {first};
  for (WatchResponse& r : client->UntilProgress()) events.push_back(std::move(r));
  EXPECT_THAT(Describe(events), ::testing::ElementsAre("PUT a=1 @3", "PUT a=2 @5"));
}

TEST_F(WatchServiceTest, ServerChosenIdsCountUpAndSkipClientChosenOnes) {
  auto client = NewClient();
  WatchCreateRequest mine = Create("a");
  mine.set_watch_id(1);
  EXPECT_EQ(client->Watch(mine).watch_id(), 1);
  EXPECT_EQ(client->Watch(Create("b")).watch_id(), 0);
  EXPECT_EQ(client->Watch(Create("c")).watch_id(), 2);
  Put("c", "v");
  WatchResponse event = client->Next();
  EXPECT_EQ(event.watch_id(), 2);
  EXPECT_THAT(Describe({event}), ::testing::ElementsAre("PUT c=v @2"));
}

TEST_F(WatchServiceTest, DuplicateClientIdIsCreatedAndCanceledWithEtcdsReason) {
  auto client = NewClient();
  WatchCreateRequest create = Create("a");
  create.set_watch_id(7);
  EXPECT_EQ(client->Watch(create).watch_id(), 7);
  WatchResponse duplicate = client->Watch(create);
  EXPECT_EQ(duplicate.watch_id(), -1);
  EXPECT_TRUE(duplicate.canceled());
  EXPECT_EQ(duplicate.cancel_reason(), "mvcc: duplicate watch ID provided on the WatchStream");
  // The first watcher is untouched.
  Put("a", "v");
  EXPECT_EQ(client->Next().watch_id(), 7);
}

TEST_F(WatchServiceTest, EmptyRangeIsRefusedWithEtcdsReason) {
  auto client = NewClient();
  WatchResponse refused = client->Watch(Create("b", "a"));
  EXPECT_TRUE(refused.canceled());
  EXPECT_EQ(refused.watch_id(), -1);
  EXPECT_EQ(refused.cancel_reason(), "mvcc: watcher range is empty");
}

TEST_F(WatchServiceTest, CancelIsAnsweredAndEndsTheWatchersEvents) {
  auto client = NewClient();
  const int64_t kept = client->Watch(Create("k")).watch_id();
  const int64_t dropped = client->Watch(Create("k")).watch_id();
  client->Cancel(dropped);
  WatchResponse canceled = client->Next();
  EXPECT_TRUE(canceled.canceled());
  EXPECT_EQ(canceled.watch_id(), dropped);
  EXPECT_EQ(canceled.compact_revision(), 0);
  client->Cancel(42);  // unknown: etcd says nothing
  Put("k", "v");
  std::vector<WatchResponse> after = client->UntilProgress();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].watch_id(), kept);
}

TEST_F(WatchServiceTest, StartRevisionReplaysHistoryThenGoesLive) {
  Put("k", "1");  // 2
  Put("x", "1");  // 3
  Put("k", "2");  // 4
  Delete("k");    // 5
  auto client = NewClient();
  WatchResponse created = client->Watch(Create("k", "", 2));
  EXPECT_EQ(created.header().revision(), 5);
  Put("k", "3");  // 6
  EXPECT_THAT(Describe(client->UntilProgress()),
              ::testing::ElementsAre("PUT k=1 @2", "PUT k=2 @4", "DELETE k @5", "PUT k=3 @6"));
}

TEST_F(WatchServiceTest, PrefixRangeAndFromKeyWatchTheirKeysOnly) {
  auto client = NewClient();
  const int64_t prefix = client->Watch(Create("p/", "p0")).watch_id();
  const int64_t range = client->Watch(Create("b", "d")).watch_id();
  const int64_t from_key = client->Watch(Create("c", std::string(1, '\0'))).watch_id();
  const int64_t all = client->Watch(Create("", std::string(1, '\0'))).watch_id();
  for (const char* key : {"a", "b", "c", "d", "p/1", "q"}) Put(key, "v");
  std::map<int64_t, std::vector<std::string>> keys;
  for (const WatchResponse& r : client->UntilProgress()) {
    for (const auto& event : r.events()) keys[r.watch_id()].push_back(event.kv().key());
  }
  EXPECT_THAT(keys[prefix], ::testing::ElementsAre("p/1"));
  EXPECT_THAT(keys[range], ::testing::ElementsAre("b", "c"));
  EXPECT_THAT(keys[from_key], ::testing::ElementsAre("c", "d", "p/1", "q"));
  EXPECT_THAT(keys[all], ::testing::ElementsAre("a", "b", "c", "d", "p/1", "q"));
}

TEST_F(WatchServiceTest, PrevKvCarriesTheVersionBeforeEachEvent) {
  Put("k", "first");
  auto client = NewClient();
  WatchCreateRequest create = Create("k");
  create.set_prev_kv(true);
  client->Watch(create);
  Put("k", "second");
  Delete("k");
  std::vector<WatchResponse> responses = client->UntilProgress();
  std::vector<const mvccpb::Event*> events;
  for (const auto& r : responses) {
    for (const auto& e : r.events()) events.push_back(&e);
  }
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]->prev_kv().value(), "first");
  EXPECT_EQ(events[0]->kv().value(), "second");
  EXPECT_EQ(events[1]->type(), mvccpb::Event::DELETE);
  EXPECT_EQ(events[1]->prev_kv().value(), "second");
}

TEST_F(WatchServiceTest, FiltersDropPutsOrDeletes) {
  auto client = NewClient();
  WatchCreateRequest no_put = Create("k");
  no_put.add_filters(WatchCreateRequest::NOPUT);
  const int64_t deletes = client->Watch(no_put).watch_id();
  WatchCreateRequest no_delete = Create("k");
  no_delete.add_filters(WatchCreateRequest::NODELETE);
  const int64_t puts = client->Watch(no_delete).watch_id();
  Put("k", "1");  // 2
  Delete("k");    // 3
  Put("k", "2");  // 4
  std::map<int64_t, std::vector<WatchResponse>> by_watcher;
  for (WatchResponse& r : client->UntilProgress()) by_watcher[r.watch_id()].push_back(r);
  EXPECT_THAT(Describe(by_watcher[deletes]), ::testing::ElementsAre("DELETE k @3"));
  EXPECT_THAT(Describe(by_watcher[puts]), ::testing::ElementsAre("PUT k=1 @2", "PUT k=2 @4"));
}

TEST_F(WatchServiceTest, FragmentSplitsALargeResponseOnlyWhenAsked) {
  const std::string mebibyte(1 << 20, 'v');
  const int64_t start = Put("big", mebibyte);
  Put("big", mebibyte);
  Put("big", mebibyte);
  auto client = NewClient();
  // One replay page holds all three events: 3 MiB, over etcd's 2 MiB limit.
  WatchCreateRequest fragmented = Create("big", "", start);
  fragmented.set_fragment(true);
  const int64_t id = client->Watch(fragmented).watch_id();
  std::vector<bool> flags;
  int events = 0;
  for (const WatchResponse& r : client->UntilProgress()) {
    EXPECT_EQ(r.watch_id(), id);
    flags.push_back(r.fragment());
    events += r.events_size();
  }
  EXPECT_THAT(flags, ::testing::ElementsAre(true, true, false));
  EXPECT_EQ(events, 3);

  const int64_t whole = client->Watch(Create("big", "", start)).watch_id();
  std::vector<WatchResponse> unsplit = client->UntilProgress();
  ASSERT_EQ(unsplit.size(), 1u);
  EXPECT_EQ(unsplit[0].watch_id(), whole);
  EXPECT_FALSE(unsplit[0].fragment());
  EXPECT_EQ(unsplit[0].events_size(), 3);
}

TEST_F(WatchServiceTest, CompactedStartIsCreatedThenCanceledWithTheCompactRevision) {
  for (int i = 0; i < 4; ++i) Put("k", std::to_string(i));  // 2..5
  Compact(4);
  auto client = NewClient();
  WatchResponse created = client->Watch(Create("k", "", 2));
  EXPECT_FALSE(created.canceled());
  WatchResponse compacted = client->Next();
  EXPECT_EQ(compacted.watch_id(), created.watch_id());
  EXPECT_TRUE(compacted.canceled());
  EXPECT_EQ(compacted.compact_revision(), 4);
  EXPECT_EQ(compacted.events_size(), 0);
}

TEST_F(WatchServiceTest, ManyWatchersOnOneKeyEachGetTheEventOnce) {
  auto client = NewClient();
  std::set<int64_t> ids;
  for (int i = 0; i < 300; ++i) ids.insert(client->Watch(Create("hot")).watch_id());
  ASSERT_EQ(ids.size(), 300u);
  Put("hot", "v");
  std::multiset<int64_t> notified;
  for (const WatchResponse& r : client->UntilProgress()) {
    EXPECT_EQ(r.events_size(), 1);
    notified.insert(r.watch_id());
  }
  EXPECT_EQ(std::set<int64_t>(notified.begin(), notified.end()), ids);
  EXPECT_EQ(notified.size(), ids.size());
}

TEST_F(WatchServiceTest, ProgressRequestIsAnsweredWithTheStoreRevision) {
  auto client = NewClient();
  int64_t revision = 0;
  EXPECT_TRUE(client->UntilProgress(&revision).empty());
  EXPECT_EQ(revision, 1);
  client->Watch(Create("elsewhere"));
  const int64_t now = Put("k", "v");
  EXPECT_TRUE(client->UntilProgress(&revision).empty());
  EXPECT_EQ(revision, now);
}

TEST_F(WatchServiceTest, ServerStopEndsTheStreamSoClientsReconnectElsewhere) {
  auto client = NewClient();
  client->Watch(Create("k"));
  server_.backend().Stop();
  grpc::Status status = client->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(), "etcdserver: server stopped");
  // A stream opened afterwards ends the same way.
  auto late = NewClient();
  EXPECT_EQ(late->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

// Small per-stream bounds, so that a client that does not read is behind after a few pages.
ClientApiOptions SmallWatchBounds() {
  ClientApiOptions options;
  options.watch.max_pending_responses = 1;
  options.watch.max_pending_bytes = 64 << 10;
  options.watch.max_events_per_page = 1;
  options.watch.max_watchers_per_stream = 3;
  options.watch.progress_interval = absl::Milliseconds(100);
  return options;
}

class BoundedWatchTest : public WatchServiceTest {
 protected:
  BoundedWatchTest() : WatchServiceTest(SmallWatchBounds()) {}
};

TEST_F(BoundedWatchTest, TooManyWatchersOnOneStreamAreRefused) {
  auto client = NewClient();
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(client->Watch(Create("k")).canceled());
  WatchResponse refused = client->Watch(Create("k"));
  EXPECT_TRUE(refused.canceled());
  EXPECT_EQ(refused.watch_id(), -1);
  EXPECT_THAT(refused.cancel_reason(), ::testing::HasSubstr("too many watchers"));
}

TEST_F(BoundedWatchTest, ASlowConsumerDoesNotBlockWritesAndLaterGetsEveryEventOnceInOrder) {
  auto client = NewClient();
  client->Watch(Create("k"));
  // 16 MiB of events while the client reads nothing: far more than gRPC's flow-control windows
  // and the stream's queue hold, so the watcher falls behind; every put still completes.
  const std::string value(256 << 10, 'x');
  std::vector<std::string> expected;
  for (int i = 0; i < 64; ++i) {
    const int64_t revision = Put("k", value);
    expected.push_back(fmt::format("PUT k={} @{}", value, revision));
  }
  EXPECT_EQ(Describe(client->UntilProgress()), expected);
}

TEST_F(BoundedWatchTest, CompactionOvertakingASlowWatcherCancelsIt) {
  auto client = NewClient();
  const int64_t id = client->Watch(Create("k")).watch_id();
  const std::string value(256 << 10, 'x');
  int64_t last = 0;
  for (int i = 0; i < 64; ++i) last = Put("k", value);
  Compact(last);
  std::vector<WatchResponse> responses;
  WatchResponse response;
  int64_t next = 2;
  do {
    response = client->Next();
    for (const auto& event : response.events()) {
      EXPECT_EQ(event.kv().mod_revision(), next++) << "events out of order or repeated";
    }
  } while (!response.canceled() && !::testing::Test::HasFailure());
  EXPECT_EQ(response.watch_id(), id);
  EXPECT_EQ(response.compact_revision(), last);
  EXPECT_LT(next, last) << "the watcher was not behind when compaction came";
}

TEST_F(BoundedWatchTest, ProgressNotifyWatchersHearTheRevisionWhenQuiet) {
  const int64_t revision = Put("elsewhere", "v");
  auto client = NewClient();
  WatchCreateRequest notified = Create("k");
  notified.set_progress_notify(true);
  const int64_t id = client->Watch(notified).watch_id();
  client->Watch(Create("k"));  // no progress_notify: never an empty response
  for (int i = 0; i < 2; ++i) {
    WatchResponse progress = client->Next();
    EXPECT_EQ(progress.watch_id(), id);
    EXPECT_EQ(progress.events_size(), 0);
    EXPECT_FALSE(progress.created());
    EXPECT_EQ(progress.header().revision(), revision);
  }
}

}  // namespace
}  // namespace raftkv::server::etcd
