// The node driver against the rules it exists to keep: the Ready order of thesis §10.2.1,
// batching, read-index rounds (§6.4), waiters, deadlines and etcd's errors, snapshots (§7) and
// membership (§4.1).
#include "node/driver.h"

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "base/metrics.h"
#include "node/driver_test_util.h"
#include "node/errors.h"

namespace raftkv::node {
namespace {

using testing::PutRequest;
using testing::TestCluster;

using testing::WriteAnswer;
struct ReadAnswer {
  std::optional<absl::Status> status;
  ReadDone Callback() {
    return [this](absl::Status s) { status = std::move(s); };
  }
};

constexpr int kLongTimeout = 1000;

TEST(DriverTest, AWriteIsAnsweredWithTheStoresAnswerOnceApplied) {
  TestCluster cluster(1);
  ASSERT_TRUE(cluster.Elect(1));
  WriteAnswer answer;
  cluster.driver(1).Write(PutRequest("k", "v"), kLongTimeout, answer.Callback());
  EXPECT_FALSE(answer.result.has_value()) << "answered before it was replicated";
  cluster.Stabilize();
  ASSERT_TRUE(answer.result.has_value());
  ASSERT_TRUE(answer.result->ok()) << answer.result->status();
  EXPECT_EQ((*answer.result)->put().header().revision(), 2);
  EXPECT_EQ(cluster.store(1).revision(), 2);
  EXPECT_EQ(cluster.driver(1).pending_writes(), 0u);
}

TEST(DriverTest, WritesThatArriveTogetherAreAppendedAndSyncedAsOneBatch) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Elect(1));
  cluster.member(1).log->entry_batches.clear();
  std::vector<WriteAnswer> answers(20);
  for (int i = 0; i < 20; ++i) {
    cluster.driver(1).Write(PutRequest("k" + std::to_string(i), "v"), kLongTimeout,
                            answers[i].Callback());
  }
  cluster.Stabilize();
  ASSERT_THAT(cluster.member(1).log->entry_batches, ::testing::ElementsAre(20u));
  for (const WriteAnswer& a : answers) {
    ASSERT_TRUE(a.result.has_value() && a.result->ok());
  }
  // Every member applied the same 20 writes in the same order.
  for (uint64_t id : cluster.ids()) EXPECT_EQ(cluster.store(id).revision(), 21) << id;
}

TEST(DriverTest, ItsMetricsCountWhatEachPassOfTheLoopBatched) {
  base::Registry registry;
  const std::vector<double> bounds = base::ExponentialBuckets(1, 2, 8);
  DriverMetrics metrics{
      .entries_persisted_per_ready = registry.GetHistogram("persisted", "h", bounds),
      .entries_applied_per_ready = registry.GetHistogram("applied", "h", bounds),
      .writes_per_proposal = registry.GetHistogram("writes", "h", bounds),
      .read_index_rounds = registry.GetCounter("rounds", "h"),
      .reads_per_read_index_round = registry.GetHistogram("reads", "h", bounds),
  };
  TestCluster cluster(3, [&](DriverOptions& o) {
    if (o.id == 1) o.metrics = metrics;
  });
  ASSERT_TRUE(cluster.Elect(1));
  const base::Histogram::Snapshot persisted_before = metrics.entries_persisted_per_ready->Read();
  const base::Histogram::Snapshot applied_before = metrics.entries_applied_per_ready->Read();
  std::vector<WriteAnswer> writes(12);
  for (int i = 0; i < 12; ++i) {
    cluster.driver(1).Write(PutRequest("k" + std::to_string(i), "v"), kLongTimeout,
                            writes[i].Callback());
  }
  std::vector<ReadAnswer> reads(5);
  for (ReadAnswer& r : reads) cluster.driver(1).ReadIndex(kLongTimeout, r.Callback());
  cluster.Stabilize();
  for (const WriteAnswer& a : writes) ASSERT_TRUE(a.result.has_value() && a.result->ok());
  for (const ReadAnswer& r : reads) ASSERT_TRUE(r.status.has_value() && r.status->ok());

  // One batch of 12 writes, one append of 12 entries, applied (here in one pass) as 12.
  const base::Histogram::Snapshot batches = metrics.writes_per_proposal->Read();
  EXPECT_EQ(batches.count, 1u);
  EXPECT_EQ(batches.sum, 12);
  const base::Histogram::Snapshot persisted = metrics.entries_persisted_per_ready->Read();
  EXPECT_EQ(persisted.count - persisted_before.count, 1u);
  EXPECT_EQ(persisted.sum - persisted_before.sum, 12);
  const base::Histogram::Snapshot applied = metrics.entries_applied_per_ready->Read();
  EXPECT_EQ(applied.sum - applied_before.sum, 12);
  // The five reads shared one round.
  EXPECT_EQ(metrics.read_index_rounds->value(), 1u);
  const base::Histogram::Snapshot per_round = metrics.reads_per_read_index_round->Read();
  EXPECT_EQ(per_round.count, 1u);
  EXPECT_EQ(per_round.sum, 5);
}

TEST(DriverTest, ResponsesThatPromiseDurableStateLeaveOnlyAfterTheSave) {
  // Thesis §10.2.1: the leader's appends may leave before its own write, but a follower's
  // append response (and any vote) promises the entries are on its disk.
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Elect(1));
  testing::TestMember& follower = cluster.member(2);
  bool saw_unsaved_response = false;
  follower.log->on_save = [&](const raft::Ready& ready) {
    // Nothing of this Ready that needs persistence may be on the wire yet.
    for (const raftpb::Message& m : follower.network.sent) {
      if (m.msg_type() == raftpb::MSG_APPEND_RESPONSE && !ready.entries.empty() &&
          m.index() >= ready.entries.front().index()) {
        saw_unsaved_response = true;
      }
    }
  };
  WriteAnswer answer;
  cluster.driver(1).Write(PutRequest("k", "v"), kLongTimeout, answer.Callback());
  cluster.Stabilize();
  ASSERT_TRUE(answer.result.has_value() && answer.result->ok());
  EXPECT_FALSE(saw_unsaved_response);
}

TEST(DriverTest, AFollowerForwardsAWriteAndAnswersOnceItAppliedIt) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Elect(1));
  WriteAnswer answer;
  cluster.driver(2).Write(PutRequest("k", "v"), kLongTimeout, answer.Callback());
  cluster.Stabilize();
  ASSERT_TRUE(answer.result.has_value());
  ASSERT_TRUE(answer.result->ok()) << answer.result->status();
  EXPECT_EQ(cluster.store(2).revision(), 2);
}

TEST(DriverTest, AWaiterIsCompletedOnlyByItsOwnMembersEntry) {
  // Two members whose request ids collide, each with a caller waiting: each caller must get
  // its own request's answer, not the answer to the other member's entry with the same id.
  TestCluster cluster(3, [](DriverOptions& o) { o.request_id_base = 0; });
  ASSERT_TRUE(cluster.Elect(1));
  auto read_back = [](const std::string& key) {
    kvpb::Request request;
    etcdserverpb::TxnRequest* txn = request.mutable_txn();
    etcdserverpb::RequestOp* put = txn->add_success();
    put->mutable_request_put()->set_key(key);
    put->mutable_request_put()->set_value("x");
    txn->add_success()->mutable_request_range()->set_key(key);
    return request;
  };
  WriteAnswer from_leader, from_follower;
  cluster.driver(2).Write(read_back("from-2"), kLongTimeout, from_follower.Callback());
  cluster.driver(1).Write(read_back("from-1"), kLongTimeout, from_leader.Callback());
  cluster.Stabilize();
  ASSERT_TRUE(from_leader.result.has_value() && from_leader.result->ok());
  ASSERT_TRUE(from_follower.result.has_value() && from_follower.result->ok());
  EXPECT_EQ((*from_leader.result)->txn().responses(1).response_range().kvs(0).key(), "from-1");
  EXPECT_EQ((*from_follower.result)->txn().responses(1).response_range().kvs(0).key(), "from-2");
}

TEST(DriverTest, ReadsThatArriveTogetherShareOneReadIndexRound) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Elect(1));
  const uint64_t rounds_before = cluster.driver(1).read_rounds();
  std::vector<ReadAnswer> reads(10);
  for (ReadAnswer& r : reads) cluster.driver(1).ReadIndex(kLongTimeout, r.Callback());
  cluster.Stabilize();
  for (const ReadAnswer& r : reads) {
    ASSERT_TRUE(r.status.has_value());
    EXPECT_TRUE(r.status->ok()) << *r.status;
  }
  EXPECT_EQ(cluster.driver(1).read_rounds() - rounds_before, 1u);
}

TEST(DriverTest, ReadsArrivingWhileARoundIsInFlightJoinTheNextRound) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Elect(1));
  const uint64_t rounds_before = cluster.driver(1).read_rounds();
  ReadAnswer first;
  cluster.driver(1).ReadIndex(kLongTimeout, first.Callback());
  ASSERT_TRUE(cluster.driver(1).Process().ok());  // round 1 leaves; its heartbeats are held
  std::vector<ReadAnswer> later(5);
  for (ReadAnswer& r : later) {
    cluster.driver(1).ReadIndex(kLongTimeout, r.Callback());
    ASSERT_TRUE(cluster.driver(1).Process().ok());
  }
  EXPECT_EQ(cluster.driver(1).read_rounds() - rounds_before, 1u) << "a round per read";
  cluster.Stabilize();
  ASSERT_TRUE(first.status.has_value() && first.status->ok());
  for (const ReadAnswer& r : later) ASSERT_TRUE(r.status.has_value() && r.status->ok());
  EXPECT_EQ(cluster.driver(1).read_rounds() - rounds_before, 2u);
}

TEST(DriverTest, ALinearizableReadWaitsUntilTheReadIndexIsApplied) {
  // A follower's read must not be served before it applied what the leader had committed.
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Elect(1));
  WriteAnswer write;
  cluster.cut = {3};
  cluster.driver(1).Write(PutRequest("k", "v"), kLongTimeout, write.Callback());
  cluster.Stabilize();
  ASSERT_TRUE(write.result.has_value() && write.result->ok());
  EXPECT_EQ(cluster.store(3).revision(), 1);
  cluster.cut.clear();
  std::optional<absl::Status> read;
  int64_t revision_when_served = 0;
  cluster.driver(3).ReadIndex(kLongTimeout, [&](absl::Status s) {
    read = std::move(s);
    revision_when_served = cluster.store(3).revision();
  });
  cluster.Stabilize();
  ASSERT_TRUE(read.has_value() && read->ok());
  EXPECT_EQ(revision_when_served, 2) << "served before the write was applied";
}

TEST(DriverTest, ALateAnswerToAnAbandonedRoundServesNoReadOfTheNextRound) {
  // Thesis §6.4: a read may be served only at a read index the leader confirmed after the read
  // arrived. The answer to a round this member gave up on carries an older index, which may
  // predate a write acknowledged before a read of the next round arrived.
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Elect(1));
  ReadAnswer first;
  cluster.driver(3).ReadIndex(kLongTimeout, first.Callback());
  // The leader confirms round 1 (its heartbeats to 2 answer), but its answer to 3 is delayed.
  std::vector<raftpb::Message> delayed;
  for (int round = 0; round < 100; ++round) {
    cluster.ProcessAll();
    bool delivered = false;
    for (uint64_t id : cluster.ids()) {
      std::deque<raftpb::Message> sent = std::move(cluster.member(id).network.sent);
      cluster.member(id).network.sent.clear();
      for (const raftpb::Message& m : sent) {
        if (m.msg_type() == raftpb::MSG_READ_INDEX_RESPONSE) {
          delayed.push_back(m);
        } else {
          cluster.driver(m.to()).Step(m);
          delivered = true;
        }
      }
    }
    if (!delivered) break;
  }
  ASSERT_EQ(delayed.size(), 1u);
  EXPECT_FALSE(first.status.has_value());
  // A write commits and is acknowledged without 3, which gives up on round 1.
  cluster.cut = {3};
  WriteAnswer write;
  cluster.driver(1).Write(PutRequest("k", "v"), kLongTimeout, write.Callback());
  cluster.Stabilize();
  ASSERT_TRUE(write.result.has_value() && write.result->ok());
  for (int t = 0; t < DriverOptions().read_retry_ticks; ++t) cluster.driver(3).Tick();
  // A read that arrives after the write was acknowledged joins round 2 with the first one.
  ReadAnswer second;
  cluster.driver(3).ReadIndex(kLongTimeout, second.Callback());
  ASSERT_TRUE(cluster.driver(3).Process().ok());
  cluster.driver(3).Step(delayed.front());
  ASSERT_TRUE(cluster.driver(3).Process().ok());
  EXPECT_FALSE(second.status.has_value())
      << "served at the index of an abandoned round, before the acknowledged write";
  EXPECT_EQ(cluster.store(3).revision(), 1);
  cluster.cut.clear();
  cluster.Stabilize();
  ASSERT_TRUE(first.status.has_value() && first.status->ok());
  ASSERT_TRUE(second.status.has_value() && second.status->ok());
  EXPECT_EQ(cluster.store(3).revision(), 2);
}

TEST(DriverTest, AReadWithNoLeaderIsAnsweredNoLeaderAtItsDeadlineDespiteRetries) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Elect(1));
  ReadAnswer read;
  cluster.driver(2).ReadIndex(/*timeout_ticks=*/30, read.Callback());
  cluster.cut = {1};  // the leader vanishes; 2 and 3 cannot elect within 30 ticks: drop all
  for (int t = 0; t < 30 && !read.status.has_value(); ++t) {
    cluster.driver(2).Tick();
    ASSERT_TRUE(cluster.driver(2).Process().ok());
    cluster.DropMessages();
  }
  ASSERT_TRUE(read.status.has_value()) << "a read was left waiting past its deadline";
  EXPECT_EQ(read.status->message(), NoLeaderError().message());
}

TEST(DriverTest, AProposedWriteThatTimesOutIsNeverReportedAsNotProposed) {
  // etcd's clients retry "no leader" as never proposed; a proposed write may still commit.
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Elect(1));
  cluster.cut = {2, 3};
  WriteAnswer answer;
  cluster.driver(1).Write(PutRequest("k", "v"), /*timeout_ticks=*/40, answer.Callback());
  for (int t = 0; t < 40 && !answer.result.has_value(); ++t) {
    cluster.TickAll();
    cluster.Stabilize();
  }
  ASSERT_TRUE(answer.result.has_value());
  ASSERT_FALSE(answer.result->ok());
  EXPECT_NE(answer.result->status().message(), NoLeaderError().message());
  // The leader lost its quorum (CheckQuorum) meanwhile: etcd's answer names that.
  EXPECT_EQ(answer.result->status().message(), TimeoutDueToLeaderFailError().message());
}

TEST(DriverTest, AWriteWithNoLeaderIsRefusedAtOnceAsNotProposed) {
  TestCluster cluster(3);
  WriteAnswer answer;
  cluster.driver(1).Write(PutRequest("k", "v"), kLongTimeout, answer.Callback());
  ASSERT_TRUE(answer.result.has_value());
  EXPECT_EQ(answer.result->status().message(), NoLeaderError().message());
}

TEST(DriverTest, TheStateIsSnapshottedAndTheLogCompactedEverySnapshotCount) {
  TestCluster cluster(1, [](DriverOptions& o) {
    o.snapshot_count = 10;
    o.snapshot_catchup_entries = 2;
  });
  ASSERT_TRUE(cluster.Elect(1));
  for (int i = 0; i < 25; ++i) {
    WriteAnswer a;
    cluster.driver(1).Write(PutRequest("k", std::to_string(i)), kLongTimeout, a.Callback());
    cluster.Stabilize();
    ASSERT_TRUE(a.result.has_value() && a.result->ok());
  }
  EXPECT_EQ(cluster.driver(1).snapshots_taken(), 2u);
  raft::Storage& storage = cluster.member(1).log->storage();
  absl::StatusOr<raftpb::Snapshot> snapshot = storage.Snapshot();
  ASSERT_TRUE(snapshot.ok());
  EXPECT_GE(snapshot->metadata().index(), 20u);
  EXPECT_EQ(storage.FirstIndex(), snapshot->metadata().index() - 2 + 1);
}

TEST(DriverTest, LargeEntriesAlsoTriggerASnapshotOnceTheirBytesReachSnapshotBytes) {
  // Each put carries a 1,000-byte value, so its entry holds between 1,000 and 1,100 bytes: the
  // third put since the last snapshot crosses 2,500 bytes (the bootstrap and election entries
  // add well under 200), long before snapshot_count.
  TestCluster cluster(1, [](DriverOptions& o) {
    o.snapshot_count = 1000000;
    o.snapshot_bytes = 2500;
    o.snapshot_catchup_entries = 1;
  });
  ASSERT_TRUE(cluster.Elect(1));
  const std::vector<uint64_t> snapshots_after_put = {0, 0, 1, 1, 1, 2, 2, 2};
  uint64_t sixth_put_index = 0;
  for (size_t i = 0; i < snapshots_after_put.size(); ++i) {
    WriteAnswer a;
    cluster.driver(1).Write(PutRequest("k", std::string(1000, 'a' + i)), kLongTimeout,
                            a.Callback());
    cluster.Stabilize();
    ASSERT_TRUE(a.result.has_value() && a.result->ok());
    EXPECT_EQ(cluster.driver(1).snapshots_taken(), snapshots_after_put[i]) << "after put " << i + 1;
    if (i == 5) sixth_put_index = cluster.driver(1).applied();
  }
  raft::Storage& storage = cluster.member(1).log->storage();
  absl::StatusOr<raftpb::Snapshot> snapshot = storage.Snapshot();
  ASSERT_TRUE(snapshot.ok());
  EXPECT_EQ(snapshot->metadata().index(), sixth_put_index);
  EXPECT_EQ(storage.FirstIndex(), sixth_put_index);
}

TEST(DriverTest, AFollowerBehindTheCompactedLogCatchesUpBySnapshotAndLearnsTheMembers) {
  TestCluster cluster(3, [](DriverOptions& o) {
    o.snapshot_count = 5;
    o.snapshot_catchup_entries = 1;
  });
  ASSERT_TRUE(cluster.Elect(1));
  cluster.cut = {3};
  for (int i = 0; i < 12; ++i) {
    WriteAnswer a;
    cluster.driver(1).Write(PutRequest("k" + std::to_string(i), "v"), kLongTimeout, a.Callback());
    cluster.Stabilize();
    ASSERT_TRUE(a.result.has_value() && a.result->ok());
  }
  cluster.cut.clear();
  cluster.member(3).network.followed = MemberList();
  for (int t = 0; t < 5; ++t) {
    cluster.TickAll();
    cluster.Stabilize();
    for (uint64_t id : {1, 2, 3}) {
      // The simulated transport reports every snapshot as delivered.
      for (const raftpb::Message& m : cluster.member(id).network.sent) {
        if (m.msg_type() == raftpb::MSG_SNAPSHOT) cluster.driver(id).ReportSnapshot(m.to(), true);
      }
    }
  }
  EXPECT_EQ(cluster.driver(3).snapshots_installed(), 1u);
  EXPECT_EQ(cluster.store(3).revision(), cluster.store(1).revision());
  EXPECT_EQ(cluster.member(3).network.followed.size(), 3u)
      << "the network must follow the members a snapshot carries";
}

TEST(DriverTest, AStorageFailureStopsTheMemberAndNothingOfThatReadyLeaves) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Elect(1));
  cluster.member(2).log->fail_with = absl::DataLossError("disk gone");
  WriteAnswer answer;
  cluster.driver(1).Write(PutRequest("k", "v"), kLongTimeout, answer.Callback());
  ASSERT_TRUE(cluster.driver(1).Process().ok());
  for (const raftpb::Message& m : cluster.member(1).network.sent) {
    if (m.to() == 2) cluster.driver(2).Step(m);
  }
  cluster.member(2).network.sent.clear();
  absl::Status s = cluster.driver(2).Process();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(cluster.member(2).network.sent.empty()) << "a response left without its write";
  WriteAnswer after;
  cluster.driver(2).Write(PutRequest("k", "w"), kLongTimeout, after.Callback());
  ASSERT_TRUE(after.result.has_value());
  EXPECT_EQ(after.result->status().message(), StoppedError().message());
}

// A log store whose storage cannot return entries: Entries fails its first `failures` calls
// with a read error, as a WAL segment that no longer reads back would. It recovers afterwards
// only so that a driver that keeps asking ends its test instead of hanging it.
class UnreadableLogStore final : public LogStore, private raft::Storage {
 public:
  UnreadableLogStore(const std::vector<peerpb::Member>& founders, int failures)
      : inner_(founders), inner_storage_(inner_.storage()), failures_left_(failures) {}

  raft::Storage& storage() override { return *this; }
  absl::Status Save(const raft::Ready& ready) override { return inner_.Save(ready); }
  absl::Status CreateSnapshot(uint64_t index, const raftpb::ConfState& conf_state,
                              std::string data) override {
    return inner_.CreateSnapshot(index, conf_state, std::move(data));
  }
  absl::Status Compact(uint64_t index) override { return inner_.Compact(index); }

  mutable int entries_calls = 0;

 private:
  absl::Status InitialState(raftpb::HardState* hard_state,
                            raftpb::ConfState* conf_state) const override {
    return inner_storage_.InitialState(hard_state, conf_state);
  }
  absl::StatusOr<std::vector<raftpb::Entry>> Entries(uint64_t lo, uint64_t hi,
                                                     uint64_t max_size_bytes) const override {
    ++entries_calls;
    if (failures_left_ > 0) {
      --failures_left_;
      return absl::InternalError("read of WAL segment 2 failed: Input/output error");
    }
    return inner_storage_.Entries(lo, hi, max_size_bytes);
  }
  absl::StatusOr<uint64_t> Term(uint64_t i) const override { return inner_storage_.Term(i); }
  uint64_t LastIndex() const override { return inner_storage_.LastIndex(); }
  uint64_t FirstIndex() const override { return inner_storage_.FirstIndex(); }
  absl::StatusOr<raftpb::Snapshot> Snapshot() const override { return inner_storage_.Snapshot(); }

  MemoryLogStore inner_;
  const raft::Storage& inner_storage_;
  mutable int failures_left_;
};

TEST(DriverTest, AnUnreadableLogStopsTheMemberWithTheStorageErrorInsteadOfSpinning) {
  std::vector<peerpb::Member> founders(1);
  founders[0].set_id(1);
  // The founding entries are committed but not applied: the first Process must read them back.
  UnreadableLogStore log(founders, /*failures=*/1000);
  StoreApplier applier;
  testing::QueueNetwork network;
  DriverOptions options;
  options.id = 1;
  auto driver = Driver::Create(options, &log, &applier, &network);
  ASSERT_TRUE(driver.ok()) << driver.status();

  absl::Status s = (*driver)->Process();
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
  EXPECT_THAT(std::string(s.message()),
              ::testing::HasSubstr("cannot read the committed entries [1, 1] from storage: read "
                                   "of WAL segment 2 failed: Input/output error"));
  EXPECT_EQ(log.entries_calls, 1) << "the driver kept asking a log that cannot be read";
  EXPECT_EQ(applier.applied_index(), 0u);
  // The member has stopped: it does no further work and says so.
  EXPECT_EQ(std::string((*driver)->Process().message()), std::string(StoppedError().message()));
  EXPECT_EQ(log.entries_calls, 1);
}

TEST(DriverTest, ARestartedMemberResumesFromItsSnapshotAndReplaysOnlyTheRest) {
  std::vector<peerpb::Member> founders(1);
  founders[0].set_id(1);
  testing::CountingLogStore log(founders);
  DriverOptions options;
  options.id = 1;
  options.snapshot_count = 4;
  options.snapshot_catchup_entries = 0;
  {
    StoreApplier applier;
    testing::QueueNetwork network;
    auto driver = Driver::Create(options, &log, &applier, &network);
    ASSERT_TRUE(driver.ok());
    ASSERT_TRUE((*driver)->Process().ok());
    (*driver)->Campaign();
    ASSERT_TRUE((*driver)->Process().ok());
    for (int i = 0; i < 6; ++i) {
      WriteAnswer a;
      (*driver)->Write(PutRequest("k", std::to_string(i)), kLongTimeout, a.Callback());
      ASSERT_TRUE((*driver)->Process().ok());
      ASSERT_TRUE(a.result.has_value() && a.result->ok());
    }
    ASSERT_EQ(applier.store().revision(), 7);
  }
  StoreApplier applier;
  testing::QueueNetwork network;
  auto driver = Driver::Create(options, &log, &applier, &network);
  ASSERT_TRUE(driver.ok());
  EXPECT_GT(applier.applied_index(), 0u) << "the state was not restored from the snapshot";
  ASSERT_TRUE((*driver)->Process().ok());
  EXPECT_EQ(applier.store().revision(), 7);
  EXPECT_EQ(applier.store().applied_index(), log.storage().LastIndex());
}

// A snapshot must never be smaller than the state it claims to hold. A state too large to
// encode whole (protobuf's 2 GiB bound; lowered here) is not snapshotted, and the log it would
// have replaced is kept, so a restart replays every entry.
TEST(DriverTest, AStateTooLargeToSnapshotWholeKeepsItsLogUncompacted) {
  std::vector<peerpb::Member> founders(1);
  founders[0].set_id(1);
  testing::CountingLogStore log(founders);
  DriverOptions options;
  options.id = 1;
  options.snapshot_count = 4;
  options.snapshot_catchup_entries = 0;
  {
    StoreApplier applier(/*max_snapshot_bytes=*/512);
    testing::QueueNetwork network;
    auto driver = Driver::Create(options, &log, &applier, &network);
    ASSERT_TRUE(driver.ok());
    ASSERT_TRUE((*driver)->Process().ok());
    (*driver)->Campaign();
    ASSERT_TRUE((*driver)->Process().ok());
    for (int i = 0; i < 12; ++i) {
      WriteAnswer a;
      (*driver)->Write(PutRequest("k" + std::to_string(i), std::string(300, 'v')), kLongTimeout,
                       a.Callback());
      ASSERT_TRUE((*driver)->Process().ok());
      ASSERT_TRUE(a.result.has_value() && a.result->ok());
    }
    EXPECT_EQ((*driver)->snapshots_taken(), 0u);
    EXPECT_EQ(log.storage().FirstIndex(), 1u) << "the log was compacted behind no snapshot";
  }
  StoreApplier applier;
  testing::QueueNetwork network;
  auto driver = Driver::Create(options, &log, &applier, &network);
  ASSERT_TRUE(driver.ok());
  ASSERT_TRUE((*driver)->Process().ok());
  EXPECT_EQ(applier.store().revision(), 13);
  EXPECT_EQ(applier.store().live_keys(), 12);
}

TEST(DriverTest, AMembershipChangeIsAnsweredWhenAppliedAndTheNetworkFollowsIt) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Elect(1));
  peerpb::Member joining;
  joining.set_id(4);
  joining.add_peer_urls("http://127.0.0.1:2384");
  MembershipChange change;
  change.change.set_change_type(raftpb::CONF_CHANGE_ADD_LEARNER_NODE);
  change.change.set_node_id(4);
  change.change.set_context(joining.SerializeAsString());
  WriteAnswer answer;
  cluster.driver(1).ChangeMembership(change, kLongTimeout, answer.Callback());
  cluster.Stabilize();
  ASSERT_TRUE(answer.result.has_value());
  ASSERT_TRUE(answer.result->ok()) << answer.result->status();
  for (uint64_t id : cluster.ids()) {
    EXPECT_TRUE(cluster.member(id).network.followed.Contains(4)) << id;
    EXPECT_THAT(cluster.driver(id).conf_state().learners(), ::testing::ElementsAre(4u));
  }
}

TEST(DriverTest, AMembershipChangeOnAFollowerIsRefusedAsNotProposed) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Elect(1));
  MembershipChange change;
  change.change.set_change_type(raftpb::CONF_CHANGE_REMOVE_NODE);
  change.change.set_node_id(3);
  WriteAnswer answer;
  cluster.driver(2).ChangeMembership(change, kLongTimeout, answer.Callback());
  ASSERT_TRUE(answer.result.has_value());
  EXPECT_EQ(answer.result->status().message(), LeaderChangedError().message());
}

TEST(DriverTest, AMemberThatAppliesItsOwnRemovalSaysSo) {
  int removed_calls = 0;
  TestCluster cluster(3, [&](DriverOptions& o) {
    if (o.id == 3) o.on_removed = [&] { ++removed_calls; };
  });
  ASSERT_TRUE(cluster.Elect(1));
  peerpb::Member leaving;
  leaving.set_id(3);
  MembershipChange change;
  change.change.set_change_type(raftpb::CONF_CHANGE_REMOVE_NODE);
  change.change.set_node_id(3);
  change.change.set_context(leaving.SerializeAsString());
  WriteAnswer answer;
  cluster.driver(1).ChangeMembership(change, kLongTimeout, answer.Callback());
  cluster.Stabilize();
  ASSERT_TRUE(answer.result.has_value() && answer.result->ok());
  EXPECT_EQ(removed_calls, 1);
  EXPECT_TRUE(cluster.member(1).network.followed.WasRemoved(3));
}

TEST(DriverTest, AMemberPublishesItsAttributesOnceItHasALeader) {
  TestCluster cluster(3, [](DriverOptions& o) {
    o.name = "n" + std::to_string(o.id);
    o.client_urls = {"http://127.0.0.1:" + std::to_string(2379 + 10 * o.id)};
  });
  ASSERT_TRUE(cluster.Elect(1));
  for (int t = 0; t < 3; ++t) {
    cluster.TickAll();
    cluster.Stabilize();
  }
  for (uint64_t id : cluster.ids()) {
    EXPECT_TRUE(cluster.driver(id).attributes_published()) << id;
    std::optional<peerpb::Member> m = cluster.member(1).applier->members().Find(id);
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->name(), "n" + std::to_string(id));
  }
}

TEST(DriverTest, FailAllAnswersEveryWaitingCaller) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Elect(1));
  WriteAnswer write;
  ReadAnswer read;
  cluster.driver(1).Write(PutRequest("k", "v"), kLongTimeout, write.Callback());
  cluster.driver(1).ReadIndex(kLongTimeout, read.Callback());
  ASSERT_TRUE(cluster.driver(1).Process().ok());
  cluster.driver(1).FailAll(StoppedError());
  ASSERT_TRUE(write.result.has_value() && read.status.has_value());
  EXPECT_EQ(write.result->status().message(), StoppedError().message());
  EXPECT_EQ(read.status->message(), StoppedError().message());
}

}  // namespace
}  // namespace raftkv::node
