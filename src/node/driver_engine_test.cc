// The node driver over a state on disk (kv::RocksDbEngine): a restart resumes at the state's own
// applied index instead of restoring the log's snapshot, the member list comes back with it, the
// log is compacted only behind what the state made durable, an idle member finishes freeing
// what a compaction dropped, and a state that does not belong to the log is refused.
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kv/engine_test_util.h"
#include "io/fault_injection_env.h"
#include "kv/rocksdb_engine.h"
#include "node/driver.h"
#include "node/driver_test_util.h"
#include "node/durable_log_store.h"

namespace raftkv::node {
namespace {

using testing::PutRequest;
using testing::WriteAnswer;

constexpr int kLongTimeout = 1000;

std::unique_ptr<StoreApplier> OpenState(const std::string& dir) {
  auto engine = kv::RocksDbEngine::Open(dir);
  EXPECT_TRUE(engine.ok()) << engine.status();
  auto applier = StoreApplier::Open(*std::move(engine));
  EXPECT_TRUE(applier.ok()) << applier.status();
  return *std::move(applier);
}

// A StoreApplier whose Sync can be made to fail, recording the order of Syncs and snapshots.
class SyncRecordingApplier final : public Applier {
 public:
  explicit SyncRecordingApplier(std::unique_ptr<StoreApplier> inner) : inner_(std::move(inner)) {}

  absl::StatusOr<kvpb::Response> ApplyRequest(uint64_t index,
                                              const kvpb::Request& request) override {
    return inner_->ApplyRequest(index, request);
  }
  void ApplyConfChange(uint64_t index, const raftpb::ConfChange& change) override {
    inner_->ApplyConfChange(index, change);
  }
  void ApplyMemberAttributes(uint64_t index, const peerpb::Member& attributes) override {
    inner_->ApplyMemberAttributes(index, attributes);
  }
  void MarkApplied(uint64_t index) override { inner_->MarkApplied(index); }
  absl::StatusOr<std::string> Snapshot() const override {
    events.push_back("snapshot at " + std::to_string(inner_->applied_index()));
    return inner_->Snapshot();
  }
  absl::Status Restore(uint64_t index, std::string_view data) override {
    return inner_->Restore(index, data);
  }
  absl::Status Sync() override {
    events.push_back("sync at " + std::to_string(inner_->applied_index()));
    if (!fail_sync_with.ok()) return fail_sync_with;
    return inner_->Sync();
  }
  bool ContinueCompaction() override { return inner_->ContinueCompaction(); }
  uint64_t applied_index() const override { return inner_->applied_index(); }
  const MemberList& members() const override { return inner_->members(); }
  const kv::Store& store() const override { return inner_->store(); }

  absl::Status fail_sync_with;
  mutable std::vector<std::string> events;

 private:
  std::unique_ptr<StoreApplier> inner_;
};

struct OneMember {
  OneMember() {
    founders.resize(1);
    founders[0].set_id(1);
    founders[0].set_name("one");
    log = std::make_unique<testing::CountingLogStore>(founders);
    options.id = 1;
    options.snapshot_count = 4;
    options.snapshot_catchup_entries = 0;
  }

  // Elects the member and applies `count` puts of k<i> through `applier`.
  void WriteThrough(Applier& applier, int count) { WriteThrough(*log, applier, count); }
  void WriteThrough(LogStore& log_store, Applier& applier, int count) {
    testing::QueueNetwork network;
    auto driver = Driver::Create(options, &log_store, &applier, &network);
    ASSERT_TRUE(driver.ok()) << driver.status();
    ASSERT_TRUE((*driver)->Process().ok());
    (*driver)->Campaign();
    ASSERT_TRUE((*driver)->Process().ok());
    for (int i = 0; i < count; ++i) {
      WriteAnswer a;
      (*driver)->Write(PutRequest("k" + std::to_string(i), "v"), kLongTimeout, a.Callback());
      ASSERT_TRUE((*driver)->Process().ok());
      ASSERT_TRUE(a.result.has_value() && a.result->ok());
    }
  }

  std::vector<peerpb::Member> founders;
  std::unique_ptr<testing::CountingLogStore> log;
  DriverOptions options;
};

TEST(DriverOnDiskTest, ARestartResumesAtTheStatesAppliedIndexWithoutRestoringTheSnapshot) {
  kv::testing::TempDir dir;
  OneMember member;
  uint64_t applied_before = 0;
  {
    std::unique_ptr<StoreApplier> state = OpenState(dir.path());
    member.WriteThrough(*state, 7);
    applied_before = state->applied_index();
    ASSERT_EQ(state->store().revision(), 8);
  }
  const uint64_t snapshot_index = member.log->storage().Snapshot()->metadata().index();
  ASSERT_GT(snapshot_index, 0u) << "the test needs a snapshot behind the last entry";
  ASSERT_LT(snapshot_index, applied_before);

  std::unique_ptr<StoreApplier> state = OpenState(dir.path());
  EXPECT_EQ(state->applied_index(), applied_before);
  EXPECT_EQ(state->members().size(), 1u) << "the member list did not come back with the state";
  testing::QueueNetwork network;
  auto driver = Driver::Create(member.options, member.log.get(), state.get(), &network);
  ASSERT_TRUE(driver.ok()) << driver.status();
  // Restoring the snapshot would have taken the state back to the snapshot's index.
  EXPECT_EQ(state->applied_index(), applied_before);
  ASSERT_TRUE((*driver)->Process().ok());
  EXPECT_EQ(state->store().revision(), 8) << "entries already in the state were applied again";
  EXPECT_EQ(state->store().live_keys(), 7);
  EXPECT_EQ((*driver)->snapshots_installed(), 0u);
}

// Compaction frees its storage in steps inside the entries applied after it (kv::RocksDbEngine);
// a member that applies no more entries must free it all the same, a step per tick, without a
// change to anything the state answers.
TEST(DriverOnDiskTest, AnIdleMemberFreesWhatACompactionDroppedTickByTick) {
  kv::testing::TempDir dir;
  OneMember member;
  member.options.snapshot_count = 100000;
  kv::RocksDbEngine::Options engine_options;
  engine_options.compaction_records_per_commit = 10;
  auto opened = kv::RocksDbEngine::Open(dir.path(), engine_options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  kv::RocksDbEngine* engine = opened->get();
  auto state = StoreApplier::Open(*std::move(opened));
  ASSERT_TRUE(state.ok()) << state.status();
  testing::QueueNetwork network;
  auto driver = Driver::Create(member.options, member.log.get(), state->get(), &network);
  ASSERT_TRUE(driver.ok()) << driver.status();
  ASSERT_TRUE((*driver)->Process().ok());
  (*driver)->Campaign();
  ASSERT_TRUE((*driver)->Process().ok());
  auto write = [&](const kvpb::Request& request) {
    WriteAnswer a;
    (*driver)->Write(request, kLongTimeout, a.Callback());
    ASSERT_TRUE((*driver)->Process().ok());
    ASSERT_TRUE(a.result.has_value() && a.result->ok());
  };
  for (int i = 0; i < 300; ++i) write(PutRequest("k" + std::to_string(i % 3), std::to_string(i)));
  kvpb::Request compact;
  compact.mutable_compaction()->set_revision(291);
  write(compact);
  ASSERT_TRUE(engine->compaction_in_progress()) << "the test needs a walk longer than one step";

  const uint64_t applied = (*state)->applied_index();
  const kv::EngineMeta meta = engine->meta();
  int ticks = 0;
  while (engine->compaction_in_progress() && ticks < 100) {
    (*driver)->Tick();
    ASSERT_TRUE((*driver)->Process().ok());
    ++ticks;
  }
  EXPECT_FALSE(engine->compaction_in_progress()) << "ticks did not finish the compaction";
  EXPECT_GE(ticks, 300 / 10 - 2) << "a tick did more than one bounded step";
  // Puts are at revisions 2..301: each key's newest version at or below 291 and the ten after
  // are what a read can still see, and all that is left on disk.
  EXPECT_EQ(engine->CountStoredRecords().versions, 3 + 10);
  EXPECT_EQ((*state)->applied_index(), applied);
  EXPECT_EQ(engine->meta(), meta);
  EXPECT_EQ((*state)->store().live_keys(), 3);
}

// The core learns its configuration from the log, not from the state: a state that already
// applied the founding configuration change must still hand it to the core on restart, or the
// member would not know it is a voter.
TEST(DriverOnDiskTest, ARestartWithoutASnapshotStillGivesTheCoreItsConfiguration) {
  kv::testing::TempDir dir;
  OneMember member;
  member.options.snapshot_count = 1000;
  {
    std::unique_ptr<StoreApplier> state = OpenState(dir.path());
    member.WriteThrough(*state, 3);
  }
  ASSERT_EQ(member.log->storage().Snapshot()->metadata().index(), 0u);
  std::unique_ptr<StoreApplier> state = OpenState(dir.path());
  ASSERT_GT(state->applied_index(), 1u);
  testing::QueueNetwork network;
  auto driver = Driver::Create(member.options, member.log.get(), state.get(), &network);
  ASSERT_TRUE(driver.ok()) << driver.status();
  ASSERT_TRUE((*driver)->Process().ok());
  (*driver)->Campaign();
  ASSERT_TRUE((*driver)->Process().ok());
  EXPECT_EQ((*driver)->leader(), 1u) << "the restarted member does not know it is a voter";
  WriteAnswer a;
  (*driver)->Write(PutRequest("after", "v"), kLongTimeout, a.Callback());
  ASSERT_TRUE((*driver)->Process().ok());
  ASSERT_TRUE(a.result.has_value() && a.result->ok());
  EXPECT_EQ(state->store().revision(), 5) << "entries the state held were applied again";
}

TEST(DriverOnDiskTest, AStateBehindTheSnapshotIsRestoredFromItAndReplaysTheRest) {
  kv::testing::TempDir first;
  kv::testing::TempDir lost;
  OneMember member;
  {
    std::unique_ptr<StoreApplier> state = OpenState(first.path());
    member.WriteThrough(*state, 6);
  }
  // The engine's directory is lost (a new disk): it starts empty, below the log's snapshot.
  std::unique_ptr<StoreApplier> state = OpenState(lost.path());
  ASSERT_EQ(state->applied_index(), 0u);
  testing::QueueNetwork network;
  auto driver = Driver::Create(member.options, member.log.get(), state.get(), &network);
  ASSERT_TRUE(driver.ok()) << driver.status();
  EXPECT_EQ(state->applied_index(), member.log->storage().Snapshot()->metadata().index());
  ASSERT_TRUE((*driver)->Process().ok());
  EXPECT_EQ(state->store().revision(), 7);
  EXPECT_EQ(state->members().size(), 1u);
}

// The durability rule: the log may drop entries only behind what the state made durable.
TEST(DriverOnDiskTest, TheLogIsCompactedOnlyAfterTheStateWasSynced) {
  kv::testing::TempDir dir;
  OneMember member;
  SyncRecordingApplier applier(OpenState(dir.path()));
  member.WriteThrough(applier, 6);
  ASSERT_FALSE(applier.events.empty());
  EXPECT_EQ(applier.events[0].substr(0, 4), "sync") << "the state was snapshotted before a sync";
  for (size_t i = 1; i < applier.events.size(); i += 2) {
    EXPECT_EQ(applier.events[i - 1].substr(4), applier.events[i].substr(8))
        << "a snapshot was not preceded by a sync at its index";
  }
  EXPECT_GT(member.log->storage().FirstIndex(), 1u);
}

TEST(DriverOnDiskTest, ALogIsNotCompactedWhenTheStateCannotBeMadeDurable) {
  kv::testing::TempDir dir;
  OneMember member;
  SyncRecordingApplier applier(OpenState(dir.path()));
  applier.fail_sync_with = absl::InternalError("injected: the disk refuses to sync");
  member.WriteThrough(applier, 12);
  EXPECT_EQ(member.log->storage().FirstIndex(), 1u) << "entries the state may lose were dropped";
  EXPECT_EQ(member.log->storage().Snapshot()->metadata().index(), 0u);
  for (const std::string& event : applier.events) EXPECT_EQ(event.substr(0, 4), "sync");
}

// A power cut loses the log's writes that were not synced, and a change of the commit index
// alone is written without a sync (the commit index can be learned again from the leader). The
// state on disk makes its own writes durable on its own schedule (a RocksDB flush, a Sync), so
// after the cut it may be ahead of the commit index the log recovered, though never ahead of
// the log's synced entries: every entry it applied was committed, and was synced into this log
// before it was applied. Such a member must start, at its state's applied index.
TEST(DriverOnDiskTest, AStateAheadOfTheCommitIndexAPowerCutLostRestartsWhereItWas) {
  kv::testing::TempDir dir;
  io::FaultInjectionEnv disk(/*seed=*/1);
  OneMember member;
  member.options.snapshot_count = 0;
  uint64_t applied_before = 0;
  {
    auto log = DurableLogStore::Open(&disk, "/data", member.founders, {});
    ASSERT_TRUE(log.ok()) << log.status();
    std::unique_ptr<StoreApplier> state = OpenState(dir.path());
    member.WriteThrough(**log, *state, 5);
    applied_before = state->applied_index();
    ASSERT_TRUE(state->Sync().ok());
  }
  disk.Crash(/*tear_last_write=*/false);
  auto log = DurableLogStore::Open(&disk, "/data", member.founders, {});
  ASSERT_TRUE(log.ok()) << log.status();
  raftpb::HardState hard_state;
  raftpb::ConfState conf_state;
  ASSERT_TRUE((*log)->storage().InitialState(&hard_state, &conf_state).ok());
  ASSERT_LT(hard_state.commit(), applied_before)
      << "the test needs a power cut that lost the last commit index";
  ASSERT_GE((*log)->storage().LastIndex(), applied_before);

  std::unique_ptr<StoreApplier> state = OpenState(dir.path());
  testing::QueueNetwork network;
  auto driver = Driver::Create(member.options, log->get(), state.get(), &network);
  ASSERT_TRUE(driver.ok()) << driver.status();
  ASSERT_TRUE((*driver)->Process().ok());
  EXPECT_EQ(state->applied_index(), applied_before);
  EXPECT_EQ(state->store().revision(), 6) << "entries already in the state were applied again";
  (*driver)->Campaign();
  ASSERT_TRUE((*driver)->Process().ok());
  WriteAnswer a;
  (*driver)->Write(PutRequest("after", "v"), kLongTimeout, a.Callback());
  ASSERT_TRUE((*driver)->Process().ok());
  ASSERT_TRUE(a.result.has_value() && a.result->ok());
  EXPECT_EQ(state->store().revision(), 7);
  EXPECT_GT(state->applied_index(), applied_before);
  EXPECT_GT((*driver)->commit(), applied_before);
}

// A state ahead of the log's last entry cannot have come from this log.
TEST(DriverOnDiskTest, AStateAheadOfTheLogIsRefusedWithAClearError) {
  kv::testing::TempDir dir;
  {
    OneMember member;
    std::unique_ptr<StoreApplier> state = OpenState(dir.path());
    member.WriteThrough(*state, 3);
  }
  // The same state next to a fresh log: it has applied entries this log never committed.
  OneMember fresh;
  std::unique_ptr<StoreApplier> state = OpenState(dir.path());
  testing::QueueNetwork network;
  auto driver = Driver::Create(fresh.options, fresh.log.get(), state.get(), &network);
  ASSERT_FALSE(driver.ok());
  EXPECT_EQ(driver.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(driver.status().message().find("do not belong together"), std::string::npos)
      << driver.status();
}

}  // namespace
}  // namespace raftkv::node
