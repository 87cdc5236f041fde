// The server's side of snapshots of a state on disk: a checkpoint made by the sender's source,
// streamed in chunks, written by the receiver's sink and installed by the installer yields the
// sender's state at or after the snapshot's index; the directories around the engine survive
// crashes at each step of an install.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "kv/memory_engine.h"
#include "kv/rocksdb_engine.h"
#include "node/state_reference.h"
#include "server/checkpoint_installers.h"
#include "server/checkpoint_source.h"
#include "server/engine_files.h"
#include "server/locked_applier.h"
#include "transport/checkpoint.h"
#include "transport/checkpoint_chunks.h"
#include "transport/snapshot_chunks.h"

namespace raftkv::server {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/raftkv-checkpoint-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

kvpb::Request Put(const std::string& key, const std::string& value) {
  kvpb::Request request;
  request.mutable_put()->set_key(key);
  request.mutable_put()->set_value(value);
  return request;
}

raftpb::ConfChange AddMember(uint64_t id, const std::string& name) {
  raftpb::ConfChange change;
  change.set_change_type(raftpb::CONF_CHANGE_ADD_NODE);
  change.set_node_id(id);
  peerpb::Member member;
  member.set_name(name);
  change.set_context(member.SerializeAsString());
  return change;
}

// One member's directory, engine and applied state, as the server wires them.
struct DiskState {
  explicit DiskState(const std::string& member_dir, bool in_memory = false)
      : files(member_dir, spdlog::default_logger()) {
    fs::create_directories(member_dir);
    EXPECT_TRUE(files.Recover().ok());
    if (in_memory) {
      installer = std::make_unique<MemoryCheckpointInstaller>(&files);
      auto applier =
          node::StoreApplier::Open(std::make_unique<kv::MemoryEngine>(), installer.get());
      state = std::make_unique<LockedApplier>(*std::move(applier));
      return;
    }
    installer = std::make_unique<RocksDbCheckpointInstaller>(&files);
    auto engine = kv::RocksDbEngine::Open(files.kv_dir());
    EXPECT_TRUE(engine.ok()) << engine.status();
    auto applier = node::StoreApplier::Open(*std::move(engine), installer.get());
    EXPECT_TRUE(applier.ok()) << applier.status();
    state = std::make_unique<LockedApplier>(*std::move(applier));
  }

  uint32_t Hash() const {
    absl::StatusOr<kv::HashKVResult> hash = state->store().HashKV(0);
    EXPECT_TRUE(hash.ok()) << hash.status();
    return hash.ok() ? hash->hash : 0;
  }

  EngineFiles files;
  std::unique_ptr<node::CheckpointInstaller> installer;
  std::unique_ptr<LockedApplier> state;
};

// What the sender's and receiver's transports do with a snapshot whose data is a reference.
absl::StatusOr<raftpb::Message> SendThroughChunks(EngineCheckpointSource& source,
                                                  const raftpb::Snapshot& snapshot,
                                                  const std::string& receiver_dir) {
  absl::StatusOr<std::optional<transport::CheckpointFiles>> checkpoint = source.Make(snapshot);
  if (!checkpoint.ok()) return checkpoint.status();
  if (!checkpoint->has_value()) return absl::InternalError("the snapshot went inline");
  raftpb::Message message;
  message.set_msg_type(raftpb::MSG_SNAPSHOT);
  message.set_from(1);
  message.set_to(2);
  *message.mutable_snapshot() = snapshot;
  transport::CheckpointSinkOptions sink;
  sink.dir = receiver_dir;
  transport::SnapshotAssembler assembler(transport::SnapshotAssembler::kDefaultMaxSizeBytes, &sink);
  transport::CheckpointChunker chunker(message, **checkpoint, 7, 64 << 10);
  absl::Status added;
  while (added.ok()) {
    absl::StatusOr<std::optional<peerpb::SnapshotChunk>> chunk = chunker.Next();
    if (!chunk.ok()) return chunk.status();
    if (!chunk->has_value()) break;
    added = assembler.Add(**chunk);
  }
  source.Release(**checkpoint);
  if (!added.ok()) return added;
  if (!assembler.complete()) return absl::InternalError("the stream did not complete");
  return assembler.TakeMessage();
}

TEST(EngineCheckpointTest,
     ACheckpointStreamedAndInstalledHoldsTheSendersStateAtOrAfterTheSnapshot) {
  TempDir tmp;
  DiskState leader(tmp.path() + "/leader/member");
  DiskState follower(tmp.path() + "/follower/member");
  leader.state->ApplyConfChange(1, AddMember(1, "leader"));
  leader.state->ApplyConfChange(2, AddMember(2, "follower"));
  uint64_t index = 2;
  for (int k = 0; k < 2000; ++k) {
    ASSERT_TRUE(leader.state->ApplyRequest(++index, Put("key" + std::to_string(k), "value")).ok());
  }
  raftpb::Snapshot snapshot;
  snapshot.mutable_metadata()->set_index(index);
  absl::StatusOr<std::string> reference = leader.state->Snapshot();
  ASSERT_TRUE(reference.ok());
  snapshot.set_data(*reference);
  // The leader's state moves on before the snapshot is sent.
  for (int k = 0; k < 100; ++k) {
    ASSERT_TRUE(leader.state->ApplyRequest(++index, Put("later" + std::to_string(k), "v")).ok());
  }
  // The follower has a state of its own, which the install replaces.
  ASSERT_TRUE(follower.state->ApplyRequest(1, Put("stale", "s")).ok());

  EngineCheckpointSource source(leader.state.get(), &leader.files, spdlog::default_logger());
  absl::StatusOr<raftpb::Message> received =
      SendThroughChunks(source, snapshot, follower.files.member_dir());
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(node::ReferencedCheckpoint(received->snapshot().data()), index);
  EXPECT_TRUE(fs::exists(follower.files.received_dir(index)));
  for (const auto& entry : fs::directory_iterator(leader.files.member_dir())) {
    EXPECT_EQ(entry.path().filename(), "kv") << "the sender left " << entry.path();
  }

  ASSERT_TRUE(
      follower.state->Restore(snapshot.metadata().index(), received->snapshot().data()).ok());
  EXPECT_EQ(follower.state->applied_index(), index);
  EXPECT_GE(follower.state->applied_index(), snapshot.metadata().index());
  EXPECT_EQ(follower.state->store().revision(), leader.state->store().revision());
  EXPECT_EQ(follower.Hash(), leader.Hash());
  EXPECT_EQ(follower.state->members().size(), 2u);
  EXPECT_FALSE(fs::exists(follower.files.received_dir(index))) << "it was not moved into place";
  EXPECT_FALSE(fs::exists(follower.files.kv_dir() + ".old"));
  // The installed engine is the member's engine from now on.
  ASSERT_TRUE(follower.state->ApplyRequest(index + 1, Put("next", "n")).ok());
  follower.state.reset();
  auto reopened = kv::RocksDbEngine::Open(follower.files.kv_dir());
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->meta().applied_index, index + 1);
}

// A stream that broke halfway keeps the follower's partial copy; the leader's kept checkpoint,
// retargeted for a later snapshot at or below its index, resumes it and installs the same state.
TEST(EngineCheckpointTest, ATransferThatBrokeResumesFromTheKeptCheckpointAndInstallsTheSameState) {
  TempDir tmp;
  DiskState leader(tmp.path() + "/leader/member");
  DiskState follower(tmp.path() + "/follower/member");
  leader.state->ApplyConfChange(1, AddMember(1, "leader"));
  leader.state->ApplyConfChange(2, AddMember(2, "follower"));
  uint64_t index = 2;
  for (int k = 0; k < 3000; ++k) {
    ASSERT_TRUE(
        leader.state->ApplyRequest(++index, Put("key" + std::to_string(k), std::string(100, 'v')))
            .ok());
  }
  raftpb::Snapshot first;
  first.mutable_metadata()->set_index(index - 10);
  first.set_data(*leader.state->Snapshot());
  EngineCheckpointSource source(leader.state.get(), &leader.files, spdlog::default_logger());
  absl::StatusOr<std::optional<transport::CheckpointFiles>> made = source.Make(first);
  ASSERT_TRUE(made.ok() && made->has_value()) << made.status();
  transport::CheckpointFiles checkpoint = **std::move(made);
  checkpoint.transfer_id = transport::NewTransferId();
  raftpb::Message message;
  message.set_msg_type(raftpb::MSG_SNAPSHOT);
  message.set_from(1);
  message.set_to(2);
  *message.mutable_snapshot() = first;
  transport::CheckpointSinkOptions sink;
  sink.dir = follower.files.member_dir();
  {
    transport::SnapshotAssembler assembler(transport::SnapshotAssembler::kDefaultMaxSizeBytes,
                                           &sink);
    transport::CheckpointChunker chunker(message, checkpoint, 7, 16 << 10);
    for (int i = 0; i < 3; ++i) {
      absl::StatusOr<std::optional<peerpb::SnapshotChunk>> chunk = chunker.Next();
      ASSERT_TRUE(chunk.ok() && chunk->has_value());
      ASSERT_TRUE(assembler.Add(**chunk).ok());
    }
  }  // the stream broke
  absl::StatusOr<uint64_t> held =
      transport::HeldCheckpointBytes(sink, checkpoint.index, checkpoint.transfer_id);
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(*held, 3u * (16 << 10));

  // Raft's next snapshot to the follower: the kept checkpoint is at or after its index.
  raftpb::Snapshot second;
  second.mutable_metadata()->set_index(index - 5);
  second.set_data(*leader.state->Snapshot());
  absl::StatusOr<std::optional<std::string>> retargeted = source.Retarget(second, checkpoint.index);
  ASSERT_TRUE(retargeted.ok() && retargeted->has_value()) << retargeted.status();
  EXPECT_EQ(node::ReferencedCheckpoint(**retargeted), checkpoint.index);
  checkpoint.snapshot_data = **retargeted;
  *message.mutable_snapshot() = second;
  transport::SnapshotAssembler assembler(transport::SnapshotAssembler::kDefaultMaxSizeBytes, &sink);
  transport::CheckpointChunker chunker(message, checkpoint, 7, 16 << 10, nullptr, *held);
  while (true) {
    absl::StatusOr<std::optional<peerpb::SnapshotChunk>> chunk = chunker.Next();
    ASSERT_TRUE(chunk.ok()) << chunk.status();
    if (!chunk->has_value()) break;
    ASSERT_TRUE(assembler.Add(**chunk).ok());
  }
  ASSERT_TRUE(assembler.complete());
  EXPECT_EQ(assembler.resumed_from(), *held);
  source.Release(checkpoint);
  raftpb::Message received = assembler.TakeMessage();
  ASSERT_TRUE(follower.state->Restore(second.metadata().index(), received.snapshot().data()).ok());
  EXPECT_EQ(follower.state->applied_index(), index);
  EXPECT_EQ(follower.Hash(), leader.Hash());
  EXPECT_EQ(follower.state->members().size(), 2u);
}

TEST(EngineCheckpointTest, AKeptCheckpointServesOnlySnapshotsThatAreReferences) {
  TempDir tmp;
  DiskState member(tmp.path() + "/member");
  ASSERT_TRUE(member.state->ApplyRequest(1, Put("k", "v")).ok());
  EngineCheckpointSource source(member.state.get(), &member.files, spdlog::default_logger());
  raftpb::Snapshot reference;
  reference.mutable_metadata()->set_index(1);
  reference.set_data(*member.state->Snapshot());
  absl::StatusOr<std::optional<std::string>> retargeted = source.Retarget(reference, 9);
  ASSERT_TRUE(retargeted.ok() && retargeted->has_value());
  EXPECT_EQ(node::ReferencedCheckpoint(**retargeted), 9u);
  peerpb::StateSnapshot inline_state;
  inline_state.set_kv("the store's snapshot bytes");
  raftpb::Snapshot carries_state;
  carries_state.set_data(inline_state.SerializeAsString());
  EXPECT_FALSE(source.Retarget(carries_state, 9).value_or("x").has_value());
}

TEST(EngineCheckpointTest, AMemberInMemoryInstallsACheckpointByCopyingItsState) {
  TempDir tmp;
  DiskState leader(tmp.path() + "/leader/member");
  DiskState follower(tmp.path() + "/follower/member", /*in_memory=*/true);
  leader.state->ApplyConfChange(1, AddMember(1, "leader"));
  for (uint64_t i = 2; i < 200; ++i) {
    ASSERT_TRUE(leader.state->ApplyRequest(i, Put("key" + std::to_string(i % 50), "v")).ok());
  }
  raftpb::Snapshot snapshot;
  snapshot.mutable_metadata()->set_index(199);
  snapshot.set_data(*leader.state->Snapshot());
  EngineCheckpointSource source(leader.state.get(), &leader.files, spdlog::default_logger());
  absl::StatusOr<raftpb::Message> received =
      SendThroughChunks(source, snapshot, follower.files.member_dir());
  ASSERT_TRUE(received.ok()) << received.status();
  ASSERT_TRUE(follower.state->Restore(199, received->snapshot().data()).ok());
  EXPECT_EQ(follower.state->applied_index(), 199u);
  EXPECT_EQ(follower.Hash(), leader.Hash());
  EXPECT_EQ(follower.state->members().size(), 1u);
  EXPECT_FALSE(follower.state->store().can_checkpoint()) << "the member left memory";
  EXPECT_TRUE(fs::exists(follower.files.received_dir(199)))
      << "a member in memory needs the checkpoint again at its next start";
}

// --engine rocksdb, then --engine memory on the same data directory: the log's snapshot refers
// to the member's own engine, whose state is copied into memory at start-up.
TEST(EngineCheckpointTest, AMemberThatChangedToMemoryCopiesItsOwnEnginesState) {
  TempDir tmp;
  std::string reference;
  uint32_t hash = 0;
  {
    DiskState on_disk(tmp.path() + "/member");
    on_disk.state->ApplyConfChange(1, AddMember(1, "one"));
    for (uint64_t i = 2; i <= 50; ++i) {
      ASSERT_TRUE(on_disk.state->ApplyRequest(i, Put("key" + std::to_string(i), "v")).ok());
    }
    reference = *on_disk.state->Snapshot();
    // Entries after the snapshot, which the log still holds.
    for (uint64_t i = 51; i <= 60; ++i) {
      ASSERT_TRUE(on_disk.state->ApplyRequest(i, Put("key" + std::to_string(i), "v")).ok());
    }
    hash = on_disk.Hash();
  }
  DiskState in_memory(tmp.path() + "/member", /*in_memory=*/true);
  ASSERT_TRUE(in_memory.state->Restore(50, reference).ok());
  EXPECT_EQ(in_memory.state->applied_index(), 60u);
  EXPECT_EQ(in_memory.Hash(), hash);
  EXPECT_EQ(in_memory.state->members().size(), 1u);
}

TEST(EngineCheckpointTest, ASnapshotThatCarriesItsStateIsSentInline) {
  TempDir tmp;
  DiskState leader(tmp.path() + "/member", /*in_memory=*/true);
  ASSERT_TRUE(leader.state->ApplyRequest(1, Put("k", "v")).ok());
  raftpb::Snapshot snapshot;
  snapshot.mutable_metadata()->set_index(1);
  snapshot.set_data(*leader.state->Snapshot());
  EngineCheckpointSource source(leader.state.get(), &leader.files, spdlog::default_logger());
  absl::StatusOr<std::optional<transport::CheckpointFiles>> made = source.Make(snapshot);
  ASSERT_TRUE(made.ok());
  EXPECT_FALSE(made->has_value());
}

TEST(EngineCheckpointTest, AMemberInMemoryHasNoCheckpointToSendForAReference) {
  TempDir tmp;
  DiskState member(tmp.path() + "/member", /*in_memory=*/true);
  peerpb::StateSnapshot reference;
  reference.mutable_engine_checkpoint()->set_applied_index(5);
  raftpb::Snapshot snapshot;
  snapshot.set_data(reference.SerializeAsString());
  EngineCheckpointSource source(member.state.get(), &member.files, spdlog::default_logger());
  EXPECT_EQ(source.Make(snapshot).status().code(), absl::StatusCode::kFailedPrecondition);
  for (const auto& entry : fs::directory_iterator(member.files.member_dir())) {
    ADD_FAILURE() << "left behind: " << entry.path();
  }
}

void MakeDir(const std::string& path, const std::string& marker) {
  fs::create_directories(path);
  std::ofstream(path + "/marker") << marker;
}

std::string Marker(const std::string& path) {
  std::ifstream in(path + "/marker");
  std::string marker;
  in >> marker;
  return marker;
}

TEST(EngineFilesTest, AStartAfterACrashBetweenTheTwoRenamesPutsTheOldStateBack) {
  TempDir tmp;
  EngineFiles files(tmp.path(), spdlog::default_logger());
  MakeDir(tmp.path() + "/kv.old", "old");
  MakeDir(files.received_dir(9), "checkpoint");
  ASSERT_TRUE(files.Recover().ok());
  EXPECT_EQ(Marker(files.kv_dir()), "old");
  EXPECT_FALSE(fs::exists(tmp.path() + "/kv.old"));
  EXPECT_EQ(Marker(files.received_dir(9)), "checkpoint") << "the install must be able to run again";
}

TEST(EngineFilesTest, AStartAfterACrashOnceTheNewStateWasInPlaceRemovesTheOldOne) {
  TempDir tmp;
  EngineFiles files(tmp.path(), spdlog::default_logger());
  MakeDir(tmp.path() + "/kv.old", "old");
  MakeDir(files.kv_dir(), "new");
  ASSERT_TRUE(files.Recover().ok());
  EXPECT_EQ(Marker(files.kv_dir()), "new");
  EXPECT_FALSE(fs::exists(tmp.path() + "/kv.old"));
}

TEST(EngineFilesTest, AStartRemovesTransfersThatDidNotFinish) {
  TempDir tmp;
  EngineFiles files(tmp.path(), spdlog::default_logger());
  MakeDir(files.kv_dir(), "kv");
  MakeDir(transport::TemporaryCheckpointPath(tmp.path(), 9, 0), "partial");
  // A restart drops what broken transfers kept to resume: the leader sends again from byte 0.
  MakeDir(transport::PartialCheckpointPath(tmp.path(), 9, 0x5eed), "kept");
  std::ofstream(
      transport::PartialManifestPath(transport::PartialCheckpointPath(tmp.path(), 9, 0x5eed)))
      << "manifest";
  MakeDir(files.NewSendDirectory(), "sending");
  MakeDir(files.received_dir(9), "complete");
  ASSERT_TRUE(files.Recover().ok());
  std::vector<std::string> left;
  for (const auto& entry : fs::directory_iterator(tmp.path()))
    left.push_back(entry.path().filename());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"kv", "snap-recv-0000000000000009"}));
}

TEST(EngineFilesTest, SwappingInReplacesTheEngineDirectory) {
  TempDir tmp;
  EngineFiles files(tmp.path(), spdlog::default_logger());
  MakeDir(files.kv_dir(), "old");
  MakeDir(files.received_dir(12), "new");
  ASSERT_TRUE(files.SwapIn(12).ok());
  EXPECT_EQ(Marker(files.kv_dir()), "new");
  EXPECT_FALSE(fs::exists(files.received_dir(12)));
  EXPECT_FALSE(fs::exists(tmp.path() + "/kv.old"));
}

TEST(EngineFilesTest, PruningKeepsTheCheckpointASnapshotNeedsAndThoseThatMayStillArrive) {
  TempDir tmp;
  EngineFiles files(tmp.path(), spdlog::default_logger());
  for (uint64_t index : {3, 5, 8, 13}) MakeDir(files.received_dir(index), "c");
  files.PruneReceived(/*keep=*/5, /*keep_above=*/8);
  EXPECT_FALSE(fs::exists(files.received_dir(3)));
  EXPECT_TRUE(fs::exists(files.received_dir(5)));
  EXPECT_FALSE(fs::exists(files.received_dir(8)));
  EXPECT_TRUE(fs::exists(files.received_dir(13)));
  files.PruneReceived(std::nullopt, std::numeric_limits<uint64_t>::max());
  EXPECT_TRUE(fs::is_empty(tmp.path()));
}

}  // namespace
}  // namespace raftkv::server
