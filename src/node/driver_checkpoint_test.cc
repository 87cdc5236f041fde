// Snapshots of a state on disk: the snapshot is a reference, the state travels as a checkpoint
// of the engine, and the member that receives it installs it in place of its engine, also when
// it dies between persisting the snapshot and installing it.
//
// The members here run the real driver and StoreApplier over RocksDB; the test stands in for
// the transport (a MsgSnapshot whose data is a reference is delivered with a checkpoint of the
// sender's engine put into the receiver's directory, as the server's sender and receiver do)
// and for the server's installer (a directory swap).
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kv/engine_test_util.h"
#include "kv/memory_engine.h"
#include "kv/rocksdb_engine.h"
#include "node/checkpoint_installer.h"
#include "node/driver.h"
#include "node/driver_test_util.h"
#include "node/state_reference.h"

namespace raftkv::node {
namespace {

namespace fs = std::filesystem;
using testing::PutRequest;
using testing::WriteAnswer;

std::string ReceivedPath(const std::string& dir, uint64_t index) {
  return dir + "/snap-recv-" + std::to_string(index);
}

// The server's installer in miniature: <dir>/snap-recv-<index> replaces <dir>/kv.
class SwappingInstaller final : public CheckpointInstaller {
 public:
  explicit SwappingInstaller(std::string dir) : dir_(std::move(dir)) {}

  absl::StatusOr<std::unique_ptr<kv::Engine>> Install(
      uint64_t checkpoint_index, absl::FunctionRef<void()> close_engine) override {
    const std::string received = ReceivedPath(dir_, checkpoint_index);
    if (!fs::exists(received)) return absl::NotFoundError(received + " is missing");
    ++installs;
    if (die_before_swap) return absl::AbortedError("injected: the member died before the swap");
    close_engine();
    fs::rename(dir_ + "/kv", dir_ + "/kv.old");
    fs::rename(received, dir_ + "/kv");
    fs::remove_all(dir_ + "/kv.old");
    absl::StatusOr<std::unique_ptr<kv::RocksDbEngine>> engine =
        kv::RocksDbEngine::Open(dir_ + "/kv");
    if (!engine.ok()) return engine.status();
    return std::unique_ptr<kv::Engine>(*std::move(engine));
  }

  bool die_before_swap = false;
  int installs = 0;

 private:
  const std::string dir_;
};

// One member: its raft log in memory (it survives a "crash" of the member), its state in
// <dir>/kv, checkpoints it receives in <dir>/snap-recv-<index>.
struct DiskMember {
  std::string dir;
  std::unique_ptr<testing::CountingLogStore> log;
  std::unique_ptr<SwappingInstaller> installer;
  std::unique_ptr<StoreApplier> applier;
  testing::QueueNetwork network;
  std::unique_ptr<Driver> driver;
  DriverOptions options;

  absl::Status Start() {
    absl::StatusOr<std::unique_ptr<kv::RocksDbEngine>> engine =
        kv::RocksDbEngine::Open(dir + "/kv");
    if (!engine.ok()) return engine.status();
    absl::StatusOr<std::unique_ptr<StoreApplier>> opened =
        StoreApplier::Open(*std::move(engine), installer.get());
    if (!opened.ok()) return opened.status();
    applier = *std::move(opened);
    absl::StatusOr<std::unique_ptr<Driver>> created =
        Driver::Create(options, log.get(), applier.get(), &network);
    if (!created.ok()) return created.status();
    driver = *std::move(created);
    return absl::OkStatus();
  }
  // The process dies: what is on disk (the state) and in the log store stays.
  void Crash() {
    driver.reset();
    applier.reset();
    network.sent.clear();
  }
};

class CheckpointClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (uint64_t id = 1; id <= 3; ++id) {
      peerpb::Member& m = founders_.emplace_back();
      m.set_id(id);
      m.add_peer_urls("http://127.0.0.1:" + std::to_string(2380 + id));
    }
    for (uint64_t id = 1; id <= 3; ++id) {
      DiskMember& member = members_[id];
      member.dir = root_.path() + "/m" + std::to_string(id);
      fs::create_directories(member.dir);
      member.log = std::make_unique<testing::CountingLogStore>(founders_);
      member.installer = std::make_unique<SwappingInstaller>(member.dir);
      member.options.id = id;
      member.options.random_seed = id;
      member.options.request_id_base = id << 32;
      member.options.snapshot_count = 10;
      member.options.snapshot_catchup_entries = 2;
      ASSERT_TRUE(member.Start().ok());
    }
    ProcessAll();
    members_[1].driver->Campaign();
    Deliver();
    ASSERT_EQ(members_[1].driver->role(), raft::StateRole::kLeader);
  }

  void ProcessAll() {
    for (auto& [id, m] : members_) {
      if (m.driver == nullptr) continue;
      absl::Status s = m.driver->Process();
      if (!s.ok()) failed_[id] = s;
      if (!s.ok()) m.Crash();
    }
  }

  // Delivers until the network is quiet; a reference snapshot goes with a checkpoint of the
  // sender's state, as the server's transport sends it.
  void Deliver() {
    for (int round = 0; round < 200; ++round) {
      ProcessAll();
      bool delivered = false;
      for (auto& [id, m] : members_) {
        std::deque<raftpb::Message> sent = std::move(m.network.sent);
        m.network.sent.clear();
        for (raftpb::Message& msg : sent) {
          DiskMember& to = members_[msg.to()];
          if (cut_.contains(msg.from()) || cut_.contains(msg.to()) || to.driver == nullptr) {
            continue;
          }
          if (msg.msg_type() == raftpb::MSG_SNAPSHOT) SendCheckpoint(m, to, msg);
          to.driver->Step(msg);
          delivered = true;
        }
      }
      if (!delivered) return;
    }
    ADD_FAILURE() << "the cluster did not settle";
  }

  void SendCheckpoint(DiskMember& from, DiskMember& to, raftpb::Message& msg) {
    if (!ReferencedCheckpoint(msg.snapshot().data()).has_value()) return;
    const uint64_t index = from.applier->applied_index();
    ASSERT_TRUE(from.applier->store().Checkpoint(ReceivedPath(to.dir, index)).ok());
    absl::StatusOr<std::string> reference = RetargetReference(msg.snapshot().data(), index);
    ASSERT_TRUE(reference.ok()) << reference.status();
    msg.mutable_snapshot()->set_data(*reference);
    sent_checkpoints_.push_back(index);
    from.driver->ReportSnapshot(to.options.id, true);
  }

  // Heartbeats until the followers have what the leader has.
  void Settle() {
    for (int i = 0; i < 5; ++i) {
      members_[1].driver->Tick();
      Deliver();
    }
  }

  void Put(const std::string& key) {
    WriteAnswer answer;
    members_[1].driver->Write(PutRequest(key, "v"), 1000, answer.Callback());
    Deliver();
    ASSERT_TRUE(answer.result.has_value() && answer.result->ok()) << key;
  }

  uint32_t Hash(uint64_t id, int64_t revision) {
    absl::StatusOr<kv::HashKVResult> hash = members_[id].applier->store().HashKV(revision);
    EXPECT_TRUE(hash.ok()) << hash.status();
    return hash.ok() ? hash->hash : 0;
  }

  // Member 3 misses a stretch the leader compacts away.
  void Member3MissesACompactedStretch() {
    cut_.insert(3);
    // 43 puts: the leader snapshots every 10 entries, so its state ends past its snapshot.
    for (int k = 0; k < 43; ++k) Put("k" + std::to_string(k));
    ASSERT_GT(members_[1].log->storage().FirstIndex(), members_[3].applier->applied_index() + 1)
        << "the leader still has the entries member 3 lacks";
    cut_.erase(3);
  }

  kv::testing::TempDir root_;
  std::vector<peerpb::Member> founders_;
  std::map<uint64_t, DiskMember> members_;
  std::set<uint64_t> cut_;
  std::map<uint64_t, absl::Status> failed_;
  std::vector<uint64_t> sent_checkpoints_;
};

TEST_F(CheckpointClusterTest, ALaggingMemberInstallsTheLeadersCheckpointAndThenFollowsTheLog) {
  Member3MissesACompactedStretch();
  Settle();
  ASSERT_EQ(sent_checkpoints_.size(), 1u) << "member 3 did not catch up by snapshot";
  EXPECT_TRUE(failed_.empty());
  EXPECT_EQ(members_[3].installer->installs, 1);
  EXPECT_EQ(members_[3].driver->snapshots_installed(), 1u);
  const uint64_t snapshot_index = members_[3].log->storage().Snapshot()->metadata().index();
  EXPECT_GE(sent_checkpoints_[0], snapshot_index)
      << "a checkpoint holds the state at or after the snapshot";
  EXPECT_FALSE(fs::exists(ReceivedPath(members_[3].dir, sent_checkpoints_[0])))
      << "the received checkpoint was not moved into place";
  EXPECT_EQ(members_[3].applier->applied_index(), members_[1].applier->applied_index());
  const int64_t revision = members_[1].applier->store().revision();
  EXPECT_EQ(members_[3].applier->store().revision(), revision);
  EXPECT_EQ(Hash(3, revision), Hash(1, revision));
  EXPECT_EQ(members_[3].applier->members().size(), 3u) << "the member list came with the state";

  Put("after");
  Settle();
  EXPECT_EQ(members_[3].applier->store().revision(), revision + 1);
  EXPECT_EQ(Hash(3, revision + 1), Hash(1, revision + 1));
}

// The crash case the install order is built for: raft persisted the snapshot (its log now
// starts after the entries the state lacks), but the state was not replaced. The restart must
// install the checkpoint that is still waiting in the member's directory.
TEST_F(CheckpointClusterTest, AMemberThatDiedBeforeInstallingInstallsTheCheckpointAtRestart) {
  members_[3].installer->die_before_swap = true;
  Member3MissesACompactedStretch();
  Settle();
  ASSERT_TRUE(failed_.contains(3)) << "the injected failure did not stop member 3";
  ASSERT_EQ(sent_checkpoints_.size(), 1u);
  const uint64_t snapshot_index = members_[3].log->storage().Snapshot()->metadata().index();
  ASSERT_GT(snapshot_index, 0u) << "raft had not persisted the snapshot";
  ASSERT_TRUE(fs::exists(ReceivedPath(members_[3].dir, sent_checkpoints_[0])));

  members_[3].installer->die_before_swap = false;
  members_[3].network.sent.clear();
  ASSERT_TRUE(members_[3].Start().ok()) << "the restart did not install the checkpoint";
  EXPECT_EQ(members_[3].installer->installs, 2);
  EXPECT_GE(members_[3].applier->applied_index(), snapshot_index);
  Settle();
  const int64_t revision = members_[1].applier->store().revision();
  EXPECT_EQ(members_[3].applier->store().revision(), revision);
  EXPECT_EQ(Hash(3, revision), Hash(1, revision));
  Put("after");
  Settle();
  EXPECT_EQ(Hash(3, revision + 1), Hash(1, revision + 1));
}

// The other crash case: the state was replaced, and holds entries past the snapshot that this
// member's log has not even received, let alone committed. The restart keeps it (the
// snapshot's reference vouches for it) and installs nothing.
TEST_F(CheckpointClusterTest, AMemberThatDiedRightAfterInstallingRestartsOnTheInstalledState) {
  Member3MissesACompactedStretch();
  // Deliver until member 3 has installed, then stop it at once.
  for (int round = 0; round < 50; ++round) {
    ProcessAll();
    if (members_[3].driver->snapshots_installed() > 0) break;
    members_[1].driver->Tick();
    for (auto& [id, m] : members_) {
      std::deque<raftpb::Message> sent = std::move(m.network.sent);
      m.network.sent.clear();
      for (raftpb::Message& msg : sent) {
        DiskMember& to = members_[msg.to()];
        if (msg.msg_type() == raftpb::MSG_SNAPSHOT) SendCheckpoint(m, to, msg);
        to.driver->Step(msg);
      }
    }
  }
  ASSERT_TRUE(failed_.empty());
  ASSERT_EQ(members_[3].driver->snapshots_installed(), 1u);
  const uint64_t applied = members_[3].applier->applied_index();
  ASSERT_GT(applied, members_[3].driver->commit())
      << "the test needs a checkpoint ahead of what member 3 committed";
  members_[3].Crash();

  ASSERT_TRUE(members_[3].Start().ok());
  EXPECT_EQ(members_[3].applier->applied_index(), applied);
  EXPECT_EQ(members_[3].installer->installs, 1) << "the installed state was installed again";
  Settle();
  const int64_t revision = members_[1].applier->store().revision();
  EXPECT_EQ(Hash(3, revision), Hash(1, revision));
}

TEST(StoreApplierOnDiskTest, ASnapshotOfAStateOnDiskIsASmallReference) {
  kv::testing::TempDir dir;
  SwappingInstaller installer(dir.path());
  absl::StatusOr<std::unique_ptr<kv::RocksDbEngine>> engine =
      kv::RocksDbEngine::Open(dir.path() + "/kv");
  ASSERT_TRUE(engine.ok());
  absl::StatusOr<std::unique_ptr<StoreApplier>> applier =
      StoreApplier::Open(*std::move(engine), &installer);
  ASSERT_TRUE(applier.ok());
  raftpb::ConfChange add;
  add.set_change_type(raftpb::CONF_CHANGE_ADD_NODE);
  add.set_node_id(1);
  peerpb::Member member;
  member.set_name("one");
  member.add_peer_urls("http://127.0.0.1:2380");
  add.set_context(member.SerializeAsString());
  (*applier)->ApplyConfChange(1, add);
  for (int k = 0; k < 10'000; ++k) {
    ASSERT_TRUE(
        (*applier)
            ->ApplyRequest(2 + k, PutRequest("key" + std::to_string(k), std::string(100, 'v')))
            .ok());
  }
  ASSERT_TRUE((*applier)->snapshots_by_reference());
  absl::StatusOr<std::string> snapshot = (*applier)->Snapshot();
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_LT(snapshot->size(), 1024u) << "the snapshot carries the state";
  EXPECT_EQ(ReferencedCheckpoint(*snapshot), (*applier)->applied_index());
  peerpb::StateSnapshot decoded;
  ASSERT_TRUE(decoded.ParseFromString(*snapshot));
  EXPECT_TRUE(decoded.kv().empty());
  ASSERT_EQ(decoded.members_size(), 1);
  EXPECT_EQ(decoded.members(0).name(), "one");
}

TEST(StoreApplierOnDiskTest, WithoutAnInstallerOrOnAnEngineInMemoryTheSnapshotCarriesTheState) {
  kv::testing::TempDir dir;
  absl::StatusOr<std::unique_ptr<kv::RocksDbEngine>> engine =
      kv::RocksDbEngine::Open(dir.path() + "/kv");
  ASSERT_TRUE(engine.ok());
  absl::StatusOr<std::unique_ptr<StoreApplier>> on_disk = StoreApplier::Open(*std::move(engine));
  ASSERT_TRUE(on_disk.ok());
  ASSERT_TRUE((*on_disk)->ApplyRequest(1, PutRequest("k", "v")).ok());
  EXPECT_FALSE((*on_disk)->snapshots_by_reference());
  EXPECT_FALSE(ReferencedCheckpoint(*(*on_disk)->Snapshot()).has_value());

  SwappingInstaller installer(dir.path());
  absl::StatusOr<std::unique_ptr<StoreApplier>> in_memory =
      StoreApplier::Open(std::make_unique<kv::MemoryEngine>(), &installer);
  ASSERT_TRUE(in_memory.ok());
  EXPECT_FALSE((*in_memory)->snapshots_by_reference());
}

TEST(StoreApplierOnDiskTest, AReferenceThatCannotBeInstalledIsAnErrorAndLeavesTheStateAlone) {
  kv::testing::TempDir dir;
  SwappingInstaller installer(dir.path());
  absl::StatusOr<std::unique_ptr<kv::RocksDbEngine>> engine =
      kv::RocksDbEngine::Open(dir.path() + "/kv");
  ASSERT_TRUE(engine.ok());
  absl::StatusOr<std::unique_ptr<StoreApplier>> applier =
      StoreApplier::Open(*std::move(engine), &installer);
  ASSERT_TRUE(applier.ok());
  ASSERT_TRUE((*applier)->ApplyRequest(1, PutRequest("k", "v")).ok());
  peerpb::StateSnapshot reference;
  reference.mutable_engine_checkpoint()->set_applied_index(20);
  // No checkpoint received at 20.
  EXPECT_EQ((*applier)->Restore(20, reference.SerializeAsString()).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ((*applier)->applied_index(), 1u);
  // A checkpoint older than the snapshot cannot hold it.
  EXPECT_EQ((*applier)->Restore(30, reference.SerializeAsString()).code(),
            absl::StatusCode::kDataLoss);
  // A member with nowhere to install from refuses.
  StoreApplier without;
  EXPECT_EQ(without.Restore(20, reference.SerializeAsString()).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(StateReferenceTest, OnlyAReferenceNamesACheckpoint) {
  peerpb::StateSnapshot inline_state;
  inline_state.set_kv(std::string(100'000, 'x'));
  inline_state.add_members()->set_id(1);
  EXPECT_FALSE(ReferencedCheckpoint(inline_state.SerializeAsString()).has_value());
  EXPECT_FALSE(ReferencedCheckpoint("").has_value());
  EXPECT_FALSE(ReferencedCheckpoint("\xff\xff garbage").has_value());

  peerpb::StateSnapshot reference;
  reference.add_members()->set_id(1);
  reference.mutable_engine_checkpoint();
  EXPECT_EQ(ReferencedCheckpoint(reference.SerializeAsString()), 0u);
  absl::StatusOr<std::string> retargeted = RetargetReference(reference.SerializeAsString(), 77);
  ASSERT_TRUE(retargeted.ok());
  EXPECT_EQ(ReferencedCheckpoint(*retargeted), 77u);
  peerpb::StateSnapshot decoded;
  ASSERT_TRUE(decoded.ParseFromString(*retargeted));
  EXPECT_EQ(decoded.members_size(), 1) << "retargeting lost the member list";
  EXPECT_FALSE(RetargetReference(inline_state.SerializeAsString(), 77).ok());
}

}  // namespace
}  // namespace raftkv::node
