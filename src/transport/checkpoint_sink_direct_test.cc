// A received checkpoint's large files go to the device with direct writes (O_DIRECT): whole
// blocks from an aligned buffer, a file's last partial block through the page cache, the same
// bytes on disk as the sender's, and a broken stream keeps every byte it received. The tests
// write real files, through an Env that refuses a direct write that is not block-aligned, as
// the strictest device does, and counts the bytes that went direct.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "io/env.h"
#include "io/env_wrapper.h"
#include "io/error_injection_env.h"
#include "transport/checkpoint.h"
#include "transport/checkpoint_sink.h"
#include "transport/checkpoint_test_util.h"
#include "transport/snapshot_chunks.h"

namespace raftkv::transport {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kBlock = io::kDirectIoAlignment;

// The part of a file a direct write can take: its whole blocks, if it is large enough.
uint64_t DirectPart(uint64_t size) {
  return size >= CheckpointSink::kDirectMinFileBytes ? size - size % kBlock : 0;
}

// The real file system, with every direct write checked the way the strictest device checks
// it (offset, length and address block-aligned) and counted, so that a test knows which bytes
// went around the page cache even on a file system that would take anything.
class DirectWriteCheckingEnv final : public io::EnvWrapper {
 public:
  DirectWriteCheckingEnv() : EnvWrapper(io::Env::Default()) {}

  absl::StatusOr<std::unique_ptr<io::File>> OpenFile(const std::string& path,
                                                     io::OpenMode mode) override {
    absl::StatusOr<std::unique_ptr<io::File>> file = base()->OpenFile(path, mode);
    if (!file.ok()) return file.status();
    return std::make_unique<CheckingFile>(this, *std::move(file));
  }

  uint64_t direct_bytes() const { return direct_bytes_; }

 private:
  class CheckingFile final : public io::FileWrapper {
   public:
    CheckingFile(DirectWriteCheckingEnv* env, std::unique_ptr<io::File> base)
        : FileWrapper(std::move(base)), env_(env) {}
    absl::Status Append(std::string_view data) override {
      absl::StatusOr<uint64_t> size = base()->Size();
      if (!size.ok()) return size.status();
      if (absl::Status s = Check(*size, data); !s.ok()) return s;
      return base()->Append(data);
    }
    absl::Status WriteAt(uint64_t offset, std::string_view data) override {
      if (absl::Status s = Check(offset, data); !s.ok()) return s;
      return base()->WriteAt(offset, data);
    }
    absl::Status GatherWriteAt(uint64_t offset,
                               std::span<const std::string_view> pieces) override {
      if (direct_) return absl::InvalidArgumentError("a gathered direct write");
      return base()->GatherWriteAt(offset, pieces);
    }
    absl::Status SetDirectWrites(bool on) override {
      // Direct writes are checked here whether or not the file system under the test has them.
      base()->SetDirectWrites(on).IgnoreError();
      direct_ = on;
      return absl::OkStatus();
    }

   private:
    absl::Status Check(uint64_t offset, std::string_view data) {
      if (!direct_) return absl::OkStatus();
      const auto aligned = [](uint64_t v) { return v % kBlock == 0; };
      if (!aligned(offset) || !aligned(data.size()) ||
          !aligned(reinterpret_cast<uintptr_t>(data.data()))) {
        ADD_FAILURE() << "a direct write of " << data.size() << " bytes at offset " << offset
                      << " that is not block-aligned";
        return absl::InvalidArgumentError("pwrite: Invalid argument");
      }
      env_->direct_bytes_ += data.size();
      return absl::OkStatus();
    }

    DirectWriteCheckingEnv* env_;
    bool direct_ = false;
  };

  // Written by the sink's writer thread, read by the test after the transfer returned.
  std::atomic<uint64_t> direct_bytes_{0};
};

// A receiving member on a DirectWriteCheckingEnv.
struct Receiver {
  explicit Receiver(const std::string& dir) : dir(dir) {
    std::filesystem::create_directories(dir);
    options = SinkInto(dir);
    options.env = &disk;
  }

  // Feeds every chunk to a new receiver; OK when the checkpoint is complete and kept.
  absl::Status Receive(const std::vector<peerpb::SnapshotChunk>& chunks) {
    SnapshotAssembler assembler(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
    for (const peerpb::SnapshotChunk& chunk : chunks) {
      if (absl::Status s = assembler.Add(chunk); !s.ok()) return s;
    }
    if (!assembler.complete()) return absl::DataLossError("the stream did not complete");
    return absl::OkStatus();
  }

  void ExpectKeptAsSent(const SentCheckpoint& sent) const {
    const std::string kept = ReceivedCheckpointPath(dir, sent.checkpoint.index);
    for (const auto& [name, contents] : sent.contents) {
      const std::string received = ReadAll(kept + "/" + name);
      EXPECT_EQ(received.size(), contents.size()) << name;
      EXPECT_TRUE(received == contents) << name << " differs from the sender's";
    }
  }

  std::string dir;
  DirectWriteCheckingEnv disk;
  CheckpointSinkOptions options;
};

TEST(CheckpointDirectWriteTest, LargeFilesGoToTheDeviceInWholeBlocksAndOnlyTheirTailsDoNot) {
  TempDir tmp;
  // A file spanning the buffer twice with a tail, one exactly a buffer, one just under the size
  // that goes direct, one exactly that size, and the small files of every checkpoint.
  const std::vector<std::pair<std::string, size_t>> files = {
      {"CURRENT", 16},
      {"000010.sst", 9 * kMiB + 123},
      {"000011.sst", CheckpointSink::kDirectBufferBytes},
      {"000012.sst", CheckpointSink::kDirectMinFileBytes - 1},
      {"000013.sst", CheckpointSink::kDirectMinFileBytes},
      {"EMPTY", 0},
      {"MANIFEST-000005", 3000}};
  SentCheckpoint sent(tmp.path() + "/sent", files);
  uint64_t direct = 0;
  for (const auto& [name, size] : files) direct += DirectPart(size);
  // Chunks that end anywhere in a block, as the wire's do.
  const std::vector<peerpb::SnapshotChunk> chunks = sent.Chunks(kMiB + 7);

  Receiver receiver(tmp.path() + "/direct");
  absl::Status received = receiver.Receive(chunks);
  ASSERT_TRUE(received.ok()) << received;
  receiver.ExpectKeptAsSent(sent);
  EXPECT_EQ(receiver.disk.direct_bytes(), direct);

  Receiver through_the_page_cache(tmp.path() + "/buffered");
  through_the_page_cache.options.direct_writes = false;
  received = through_the_page_cache.Receive(chunks);
  ASSERT_TRUE(received.ok()) << received;
  through_the_page_cache.ExpectKeptAsSent(sent);
  EXPECT_EQ(through_the_page_cache.disk.direct_bytes(), 0u);
}

TEST(CheckpointDirectWriteTest, ABrokenStreamKeepsEveryByteItReceivedAndTheRestFollows) {
  TempDir tmp;
  const uint64_t size = 9 * kMiB + 5;
  SentCheckpoint sent(tmp.path() + "/sent", {{"000020.sst", size}, {"CURRENT", 16}});
  // Breaks inside a block and on a block boundary, before and after the buffer first filled.
  for (const uint64_t chunk_bytes : {kMiB + 100, kMiB}) {
    for (const size_t broken_after : {size_t{3}, size_t{5}}) {
      SCOPED_TRACE(testing::Message() << chunk_bytes << "-byte chunks, broken after "
                                      << broken_after);
      const std::vector<peerpb::SnapshotChunk> whole = sent.Chunks(chunk_bytes);
      Receiver receiver(tmp.path() + "/member-" + std::to_string(chunk_bytes) + "-" +
                        std::to_string(broken_after));
      BreakAfter(whole, broken_after, receiver.options);
      const uint64_t received = chunk_bytes * broken_after;
      absl::StatusOr<uint64_t> held =
          HeldCheckpointBytes(receiver.options, sent.checkpoint.index, sent.checkpoint.transfer_id);
      ASSERT_TRUE(held.ok()) << held.status();
      EXPECT_EQ(*held, received) << "bytes still in the direct buffer were lost";

      absl::Status resumed = receiver.Receive(sent.Chunks(chunk_bytes, *held));
      ASSERT_TRUE(resumed.ok()) << resumed;
      receiver.ExpectKeptAsSent(sent);
      if (received % kBlock == 0) {
        // The resumed file starts on a block boundary and goes on with direct writes.
        EXPECT_EQ(receiver.disk.direct_bytes(), DirectPart(size));
      } else {
        // It starts inside a block: the rest of it goes through the page cache.
        EXPECT_EQ(receiver.disk.direct_bytes(), received - received % kBlock);
      }
    }
  }
}

TEST(CheckpointDirectWriteTest, AFileSystemThatRefusesTheAlignmentGetsTheFileThroughThePageCache) {
  TempDir tmp;
  SentCheckpoint sent(tmp.path() + "/sent", {{"000030.sst", 6 * kMiB + 1}});
  sent.checkpoint.transfer_id = 0;  // no manifest: the first write is the first direct one
  Receiver receiver(tmp.path() + "/member");
  io::ErrorInjectionEnv refusing(&receiver.disk);
  refusing.FailNth(io::EnvOp::kWrite, 1, EINVAL);
  receiver.options.env = &refusing;
  absl::Status received = receiver.Receive(sent.Chunks(kMiB));
  ASSERT_TRUE(received.ok()) << received;
  EXPECT_EQ(receiver.disk.direct_bytes(), 0u);
  receiver.ExpectKeptAsSent(sent);
}

// A direct write that fails for another reason than its alignment ends what the file takes: a
// sink then dropped without being told to discard (a stream that broke) keeps only bytes written
// in order, never later bytes beyond a gap, and the same checkpoint resumes from them.
TEST(CheckpointDirectWriteTest, AFailedDirectWriteLeavesNoGapInTheKeptCopy) {
  TempDir tmp;
  SentCheckpoint sent(tmp.path() + "/sent", {{"000050.sst", 9 * kMiB + 5}});
  const std::vector<peerpb::SnapshotChunk> chunks = sent.Chunks(kMiB);
  Receiver receiver(tmp.path() + "/member");
  io::ErrorInjectionEnv failing(&receiver.disk);
  failing.FailNth(io::EnvOp::kWrite, 2, EIO);  // the manifest, then the first direct write
  CheckpointSinkOptions options = receiver.options;
  options.env = &failing;
  {
    CheckpointSink sink(options);
    ASSERT_TRUE(sink.Begin(chunks[0].checkpoint(), chunks[0].total_size_bytes()).ok());
    absl::Status written;
    for (size_t i = 0; i < chunks.size() && written.ok(); ++i) {
      written = sink.Write(chunks[i].data());
    }
    EXPECT_FALSE(written.ok()) << "the failed direct write was not reported";
  }
  absl::StatusOr<uint64_t> held =
      HeldCheckpointBytes(receiver.options, sent.checkpoint.index, sent.checkpoint.transfer_id);
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(*held, 0u) << "bytes after the failed write landed beyond it";

  absl::Status resumed = receiver.Receive(sent.Chunks(kMiB, *held));
  ASSERT_TRUE(resumed.ok()) << resumed;
  receiver.ExpectKeptAsSent(sent);
}

}  // namespace
}  // namespace raftkv::transport
