// A checkpoint's files across the wire: the sender's chunks rebuild identical files on the
// receiver, and nothing a peer announces (names, sizes, offsets) or sends (gaps, corrupted
// bytes) makes the receiver write outside its directory, allocate, or keep a checkpoint that is
// not whole. A stream that breaks leaves a partial copy that the same checkpoint resumes.
#include "transport/checkpoint_sink.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "transport/checkpoint.h"
#include "transport/checkpoint_chunks.h"
#include "transport/checkpoint_test_util.h"
#include "transport/snapshot_chunks.h"

namespace raftkv::transport {
namespace {

namespace fs = std::filesystem;

TEST(CheckpointTransferTest, AStreamSplitIntoChunksRebuildsIdenticalFiles) {
  TempDir tmp;
  // Empty files, files smaller and larger than a chunk, and chunks that span several files.
  SentCheckpoint sent(tmp.path() + "/sent", {{"CURRENT", 16},
                                             {"000009.log", 0},
                                             {"000012.sst", 2500},
                                             {"MANIFEST-000005", 3},
                                             {"OPTIONS-000007", 999},
                                             {"LAST", 0}});
  const std::string receive = tmp.path() + "/member";
  fs::create_directories(receive);
  const CheckpointSinkOptions options = SinkInto(receive);
  SnapshotAssembler assembler(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
  const std::vector<peerpb::SnapshotChunk> chunks = sent.Chunks(/*chunk_size=*/700);
  ASSERT_EQ(chunks.size(), 6u) << "3518 bytes in chunks of 700";
  for (const peerpb::SnapshotChunk& chunk : chunks) {
    EXPECT_EQ(chunk.cluster_id(), 9u);
    EXPECT_EQ(chunk.to(), 2u);
    ASSERT_TRUE(assembler.Add(chunk).ok());
  }
  ASSERT_TRUE(assembler.complete());
  ASSERT_TRUE(assembler.has_checkpoint());
  EXPECT_EQ(assembler.reserved_bytes(), std::string().capacity())
      << "files were buffered in memory";
  const std::string kept = ReceivedCheckpointPath(receive, 57);
  EXPECT_EQ(assembler.checkpoint_path(), kept);
  raftpb::Message message = assembler.TakeMessage();
  EXPECT_EQ(message.snapshot().data(), "the reference naming 57")
      << "the delivered message must keep the reference";
  EXPECT_EQ(message.snapshot().metadata().index(), 42u);
  EXPECT_EQ(Names(receive), std::vector<std::string>{"snap-recv-0000000000000039"});
  for (const auto& [name, contents] : sent.contents) {
    EXPECT_EQ(ReadAll(kept + "/" + name), contents) << name;
  }
  EXPECT_EQ(Names(kept).size(), sent.contents.size());
}

TEST(CheckpointTransferTest, FileNamesThatAreNotPlainNamesAreRefusedBeforeAnythingIsWritten) {
  TempDir tmp;
  const CheckpointSinkOptions options = SinkInto(tmp.path());
  const std::vector<std::string> bad = {"../escape",
                                        "dir/file",
                                        "/etc/passwd",
                                        "..",
                                        ".",
                                        "",
                                        "name with space",
                                        "tab\t",
                                        std::string("nul\0byte", 8),
                                        std::string(256, 'a')};
  for (const std::string& name : bad) {
    SnapshotAssembler assembler(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
    absl::Status s = assembler.Add(Header({{"CURRENT", 1}, {name, 1}}));
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << "'" << name << "': " << s;
  }
  EXPECT_TRUE(Names(tmp.path()).empty());
}

TEST(CheckpointTransferTest, AFileListedTwiceIsRefused) {
  TempDir tmp;
  const CheckpointSinkOptions options = SinkInto(tmp.path());
  SnapshotAssembler assembler(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
  EXPECT_EQ(assembler.Add(Header({{"000012.sst", 1}, {"000012.sst", 1}})).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CheckpointTransferTest, ACheckpointOverTheConfiguredMaximumIsRefused) {
  TempDir tmp;
  CheckpointSinkOptions options = SinkInto(tmp.path());
  options.max_size_bytes = 1000;
  SnapshotAssembler assembler(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
  EXPECT_EQ(assembler.Add(Header({{"a", 600}, {"b", 401}})).code(),
            absl::StatusCode::kResourceExhausted);
  // Sizes that overflow when added up are over the maximum too.
  SnapshotAssembler overflowing(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
  EXPECT_EQ(overflowing.Add(Header({{"a", 900}, {"b", ~uint64_t{0} - 100}})).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(Names(tmp.path()).empty());
}

TEST(CheckpointTransferTest, ACheckpointLargerThanTheFreeSpaceIsRefused) {
  TempDir tmp;
  CheckpointSinkOptions options = SinkInto(tmp.path());
  options.free_bytes = [](const std::string&) -> absl::StatusOr<uint64_t> { return 5000; };
  SnapshotAssembler assembler(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
  absl::Status s = assembler.Add(Header({{"000012.sst", 5001}}));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_NE(s.message().find("free"), std::string::npos) << s;
  EXPECT_TRUE(Names(tmp.path()).empty());
}

TEST(CheckpointTransferTest, TheRealFreeSpaceIsReadFromTheFileSystem) {
  TempDir tmp;
  absl::StatusOr<uint64_t> free = FreeBytesOf(tmp.path());
  ASSERT_TRUE(free.ok()) << free.status();
  EXPECT_GT(*free, 0u);
  EXPECT_FALSE(FreeBytesOf(tmp.path() + "/missing").ok());
}

TEST(CheckpointTransferTest, AnAnnouncedSizeThatIsNotTheSumOfTheFilesIsRefused) {
  TempDir tmp;
  const CheckpointSinkOptions options = SinkInto(tmp.path());
  peerpb::SnapshotChunk header = Header({{"a", 10}});
  header.set_total_size_bytes(11);
  SnapshotAssembler assembler(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
  EXPECT_EQ(assembler.Add(header).code(), absl::StatusCode::kInvalidArgument);
}

TEST(CheckpointTransferTest, AGapInTheStreamIsRefusedAndLeavesNothingBehind) {
  TempDir tmp;
  SentCheckpoint sent(tmp.path() + "/sent", {{"000012.sst", 3000}});
  const std::string receive = tmp.path() + "/member";
  fs::create_directories(receive);
  const CheckpointSinkOptions options = SinkInto(receive);
  std::vector<peerpb::SnapshotChunk> chunks = sent.Chunks(1000);
  ASSERT_EQ(chunks.size(), 3u);
  {
    SnapshotAssembler assembler(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
    ASSERT_TRUE(assembler.Add(chunks[0]).ok());
    EXPECT_EQ(assembler.Add(chunks[2]).code(), absl::StatusCode::kInvalidArgument);
    EXPECT_FALSE(assembler.complete());
  }
  EXPECT_TRUE(Names(receive).empty()) << "a failed transfer left its files";
}

TEST(CheckpointTransferTest, ACorruptedByteFailsTheChecksumAndNothingIsKept) {
  TempDir tmp;
  SentCheckpoint sent(tmp.path() + "/sent", {{"CURRENT", 16}, {"000012.sst", 3000}});
  const std::string receive = tmp.path() + "/member";
  fs::create_directories(receive);
  const CheckpointSinkOptions options = SinkInto(receive);
  std::vector<peerpb::SnapshotChunk> chunks = sent.Chunks(1000);
  (*chunks[1].mutable_data())[10] ^= 0x01;
  {
    SnapshotAssembler assembler(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
    absl::Status last;
    for (const peerpb::SnapshotChunk& chunk : chunks) last = assembler.Add(chunk);
    EXPECT_EQ(last.code(), absl::StatusCode::kDataLoss) << last;
    EXPECT_FALSE(assembler.complete());
  }
  EXPECT_TRUE(Names(receive).empty());
}

TEST(CheckpointTransferTest, AStreamThatEndsEarlyIsRefused) {
  TempDir tmp;
  SentCheckpoint sent(tmp.path() + "/sent", {{"000012.sst", 3000}});
  const CheckpointSinkOptions options = SinkInto(tmp.path());
  std::vector<peerpb::SnapshotChunk> chunks = sent.Chunks(1000);
  chunks[1].set_last(true);
  SnapshotAssembler assembler(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
  ASSERT_TRUE(assembler.Add(chunks[0]).ok());
  EXPECT_EQ(assembler.Add(chunks[1]).code(), absl::StatusCode::kInvalidArgument);
}

// A header may announce anything under the limits; what the receiver holds grows only with
// what arrives: no buffer from the announced size, no preallocated files.
TEST(CheckpointTransferTest, AForgedHeaderCannotMakeTheReceiverAllocate) {
  TempDir tmp;
  const CheckpointSinkOptions options = SinkInto(tmp.path());
  {
    SnapshotAssembler assembler(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
    ASSERT_TRUE(assembler.Add(Header({{"000012.sst", uint64_t{100} << 30}})).ok());
    peerpb::SnapshotChunk chunk;
    chunk.set_offset(0);
    chunk.set_data(Pattern(4096, 3));
    ASSERT_TRUE(assembler.Add(chunk).ok());
    EXPECT_EQ(assembler.reserved_bytes(), std::string().capacity());
    const std::vector<std::string> names = Names(tmp.path());
    ASSERT_EQ(names.size(), 1u);
    // Nothing is preallocated: the file holds at most what came (a large file's bytes wait in
    // the direct-write buffer until it has a few MiB).
    const std::string file = tmp.path() + "/" + names[0] + "/000012.sst";
    EXPECT_LE(fs::file_size(file), 4096u);
  }
  EXPECT_TRUE(Names(tmp.path()).empty());
}

TEST(CheckpointTransferTest, AMemberThatKeepsNoFilesRefusesThem) {
  SnapshotAssembler without_options;
  EXPECT_EQ(without_options.Add(Header({{"a", 1}})).code(), absl::StatusCode::kFailedPrecondition);
  CheckpointSinkOptions no_dir;
  SnapshotAssembler without_dir(SnapshotAssembler::kDefaultMaxSizeBytes, &no_dir);
  EXPECT_EQ(without_dir.Add(Header({{"a", 1}})).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(CheckpointTransferTest, TheSameCheckpointReceivedTwiceKeepsTheFirstCopy) {
  TempDir tmp;
  SentCheckpoint sent(tmp.path() + "/sent", {{"000012.sst", 100}});
  const std::string receive = tmp.path() + "/member";
  fs::create_directories(receive);
  const CheckpointSinkOptions options = SinkInto(receive);
  for (int round = 0; round < 2; ++round) {
    SnapshotAssembler assembler(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
    for (const peerpb::SnapshotChunk& chunk : sent.Chunks(64)) {
      ASSERT_TRUE(assembler.Add(chunk).ok());
    }
    ASSERT_TRUE(assembler.complete());
  }
  EXPECT_EQ(Names(receive), std::vector<std::string>{"snap-recv-0000000000000039"});
}

TEST(CheckpointTransferTest, ASenderWhoseFileShrankFailsInsteadOfSendingShortData) {
  TempDir tmp;
  SentCheckpoint sent(tmp.path() + "/sent", {{"000012.sst", 100}});
  fs::resize_file(tmp.path() + "/sent/000012.sst", 50);
  CheckpointChunker chunker(SnapshotMessage(), sent.checkpoint, 9, 64);
  absl::Status failure;
  for (int i = 0; i < 3 && failure.ok(); ++i) failure = chunker.Next().status();
  EXPECT_EQ(failure.code(), absl::StatusCode::kDataLoss) << failure;
}

TEST(CheckpointResumeTest, ABrokenStreamResumedWhereItStoppedRebuildsIdenticalFilesFromTheRest) {
  TempDir tmp;
  // File ends fall on chunk ends (500, 1500) and inside chunks; an empty file in the middle.
  SentCheckpoint sent(tmp.path() + "/sent",
                      {{"CURRENT", 500}, {"000012.sst", 1000}, {"EMPTY", 0}, {"OPTIONS", 730}});
  const uint64_t total = 2230;
  const std::vector<peerpb::SnapshotChunk> whole = sent.Chunks(500);
  ASSERT_EQ(whole.size(), 5u);
  for (size_t broken_after = 1; broken_after < whole.size(); ++broken_after) {
    SCOPED_TRACE(broken_after);
    const std::string receive = tmp.path() + "/member-" + std::to_string(broken_after);
    fs::create_directories(receive);
    const CheckpointSinkOptions options = SinkInto(receive);
    BreakAfter(whole, broken_after, options);
    const uint64_t kept_bytes = 500 * broken_after;
    EXPECT_EQ(Names(receive), (std::vector<std::string>{
                                  "snap-recv-0000000000000039.part-0000000000005eed",
                                  "snap-recv-0000000000000039.part-0000000000005eed.manifest"}))
        << "the partial copy of a broken stream must stay";
    absl::StatusOr<uint64_t> held = HeldCheckpointBytes(options, 57, 0x5eed);
    ASSERT_TRUE(held.ok()) << held.status();
    EXPECT_EQ(*held, kept_bytes);

    const std::vector<peerpb::SnapshotChunk> rest = sent.Chunks(500, *held);
    EXPECT_EQ(DataBytes(rest), total - kept_bytes) << "only the missing bytes travel";
    ASSERT_FALSE(rest.empty());
    EXPECT_EQ(rest[0].offset(), kept_bytes);
    EXPECT_TRUE(rest[0].has_message()) << "the resumed stream still starts with the header";
    EXPECT_EQ(rest[0].checkpoint().transfer_id(), 0x5eedu);
    SnapshotAssembler assembler(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
    for (const peerpb::SnapshotChunk& chunk : rest) ASSERT_TRUE(assembler.Add(chunk).ok());
    ASSERT_TRUE(assembler.complete());
    EXPECT_EQ(assembler.resumed_from(), kept_bytes);
    EXPECT_EQ(assembler.received_bytes(), total);
    const std::string kept = ReceivedCheckpointPath(receive, 57);
    EXPECT_EQ(Names(receive), std::vector<std::string>{"snap-recv-0000000000000039"});
    for (const auto& [name, contents] : sent.contents) {
      EXPECT_EQ(ReadAll(kept + "/" + name), contents) << name;
    }
  }
}

TEST(CheckpointResumeTest, AStreamThatBrokeAfterItsLastByteResumesWithTheChecksumAlone) {
  TempDir tmp;
  SentCheckpoint sent(tmp.path() + "/sent", {{"000012.sst", 1000}, {"EMPTY", 0}});
  const std::string receive = tmp.path() + "/member";
  fs::create_directories(receive);
  const CheckpointSinkOptions options = SinkInto(receive);
  std::vector<peerpb::SnapshotChunk> chunks = sent.Chunks(500);
  chunks[1].set_last(false);  // the stream broke before the receiver saw the end
  BreakAfter(chunks, 2, options);
  ASSERT_EQ(HeldCheckpointBytes(options, 57, 0x5eed).value_or(0), 1000u);
  const std::vector<peerpb::SnapshotChunk> rest = sent.Chunks(500, 1000);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_TRUE(rest[0].data().empty());
  EXPECT_TRUE(rest[0].last());
  SnapshotAssembler assembler(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
  ASSERT_TRUE(assembler.Add(rest[0]).ok());
  ASSERT_TRUE(assembler.complete());
  EXPECT_TRUE(fs::exists(ReceivedCheckpointPath(receive, 57) + "/EMPTY"));
}

TEST(CheckpointResumeTest, AnotherCheckpointAtTheSameIndexStartsFromZeroAndDropsTheOldPartial) {
  TempDir tmp;
  SentCheckpoint old_leader(tmp.path() + "/old", {{"000012.sst", 2000}});
  SentCheckpoint new_leader(tmp.path() + "/new", {{"000012.sst", 2000}});
  new_leader.checkpoint.transfer_id = 0xbeef;
  const std::string receive = tmp.path() + "/member";
  fs::create_directories(receive);
  const CheckpointSinkOptions options = SinkInto(receive);
  BreakAfter(old_leader.Chunks(500), 2, options);
  EXPECT_EQ(HeldCheckpointBytes(options, 57, 0x5eed).value_or(0), 1000u);
  EXPECT_EQ(HeldCheckpointBytes(options, 57, 0xbeef).value_or(99), 0u)
      << "a partial copy of another checkpoint is not this one's";
  EXPECT_EQ(HeldCheckpointBytes(options, 58, 0x5eed).value_or(99), 0u);

  const std::vector<peerpb::SnapshotChunk> chunks = new_leader.Chunks(500);
  SnapshotAssembler assembler(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
  ASSERT_TRUE(assembler.Add(chunks[0]).ok());
  EXPECT_EQ(Names(receive),
            (std::vector<std::string>{"snap-recv-0000000000000039.part-000000000000beef",
                                      "snap-recv-0000000000000039.part-000000000000beef.manifest"}))
      << "the old partial copy must go once another transfer starts";
  for (size_t i = 1; i < chunks.size(); ++i) ASSERT_TRUE(assembler.Add(chunks[i]).ok());
  ASSERT_TRUE(assembler.complete());
  EXPECT_EQ(ReadAll(ReceivedCheckpointPath(receive, 57) + "/000012.sst"),
            new_leader.contents["000012.sst"]);
}

TEST(CheckpointResumeTest, AResumePointOtherThanTheBytesHeldIsRefusedAndTheCopyIsKept) {
  TempDir tmp;
  SentCheckpoint sent(tmp.path() + "/sent", {{"000012.sst", 3000}});
  const std::string receive = tmp.path() + "/member";
  fs::create_directories(receive);
  const CheckpointSinkOptions options = SinkInto(receive);
  BreakAfter(sent.Chunks(500), 2, options);
  for (uint64_t forged : {uint64_t{1500}, uint64_t{500}, uint64_t{3000}}) {
    SnapshotAssembler assembler(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
    absl::Status s = assembler.Add(sent.Chunks(500, forged)[0]);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << forged << ": " << s;
    EXPECT_NE(s.message().find("holds 1000 bytes"), std::string::npos) << s;
  }
  peerpb::SnapshotChunk past_the_end = sent.Chunks(500, 1000)[0];
  past_the_end.set_offset(3001);
  SnapshotAssembler assembler(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
  EXPECT_EQ(assembler.Add(past_the_end).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HeldCheckpointBytes(options, 57, 0x5eed).value_or(0), 1000u)
      << "a forged offset must not cost the real transfer its copy";
}

TEST(CheckpointResumeTest, AResumeWithoutACopyOrWithoutATransferIdIsRefused) {
  TempDir tmp;
  SentCheckpoint sent(tmp.path() + "/sent", {{"000012.sst", 3000}});
  const std::string receive = tmp.path() + "/member";
  fs::create_directories(receive);
  const CheckpointSinkOptions options = SinkInto(receive);
  {
    SnapshotAssembler assembler(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
    EXPECT_EQ(assembler.Add(sent.Chunks(500, 1000)[0]).code(), absl::StatusCode::kInvalidArgument);
  }
  sent.checkpoint.transfer_id = 0;
  {
    SnapshotAssembler assembler(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
    EXPECT_EQ(assembler.Add(sent.Chunks(500, 1000)[0]).code(), absl::StatusCode::kInvalidArgument);
  }
  // Inline data has nothing to resume.
  peerpb::SnapshotChunk inline_chunk;
  *inline_chunk.mutable_message() = SnapshotMessage();
  inline_chunk.set_total_size_bytes(10);
  inline_chunk.set_offset(5);
  SnapshotAssembler assembler(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
  EXPECT_EQ(assembler.Add(inline_chunk).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Names(receive).empty());
}

TEST(CheckpointResumeTest, AKeptByteThatChangedFailsTheWholeStreamsChecksumAndTheCopyGoes) {
  TempDir tmp;
  SentCheckpoint sent(tmp.path() + "/sent", {{"CURRENT", 16}, {"000012.sst", 3000}});
  const std::string receive = tmp.path() + "/member";
  fs::create_directories(receive);
  const CheckpointSinkOptions options = SinkInto(receive);
  BreakAfter(sent.Chunks(1000), 2, options);
  const std::string partial = PartialCheckpointPath(receive, 57, 0x5eed);
  {
    std::fstream file(partial + "/000012.sst", std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(100);
    file.put('');
  }
  ASSERT_EQ(HeldCheckpointBytes(options, 57, 0x5eed).value_or(0), 2000u);
  {
    SnapshotAssembler assembler(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
    absl::Status last;
    for (const peerpb::SnapshotChunk& chunk : sent.Chunks(1000, 2000)) last = assembler.Add(chunk);
    EXPECT_EQ(last.code(), absl::StatusCode::kDataLoss) << last;
    EXPECT_FALSE(assembler.complete());
  }
  EXPECT_TRUE(Names(receive).empty()) << "a copy that failed its checksum must not be resumed";
}

TEST(CheckpointResumeTest, APartialCopyWithFilesATransferCouldNotHaveWrittenIsNotResumed) {
  TempDir tmp;
  SentCheckpoint sent(tmp.path() + "/sent", {{"a.sst", 1000}, {"b.sst", 1000}});
  const std::string receive = tmp.path() + "/member";
  fs::create_directories(receive);
  const CheckpointSinkOptions options = SinkInto(receive);
  BreakAfter(sent.Chunks(500), 1, options);
  const std::string partial = PartialCheckpointPath(receive, 57, 0x5eed);
  // A file after one that is not whole.
  std::ofstream(partial + "/b.sst") << "x";
  EXPECT_EQ(HeldCheckpointBytes(options, 57, 0x5eed).value_or(99), 0u);
  // A transfer from byte 0 replaces it.
  SnapshotAssembler assembler(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
  for (const peerpb::SnapshotChunk& chunk : sent.Chunks(500)) {
    ASSERT_TRUE(assembler.Add(chunk).ok());
  }
  ASSERT_TRUE(assembler.complete());
  EXPECT_EQ(ReadAll(ReceivedCheckpointPath(receive, 57) + "/b.sst"), sent.contents["b.sst"]);
}

TEST(CheckpointResumeTest, OneTransferAtATimeWritesAPartialCopy) {
  TempDir tmp;
  SentCheckpoint sent(tmp.path() + "/sent", {{"000012.sst", 3000}});
  const CheckpointSinkOptions options = SinkInto(tmp.path());
  const std::vector<peerpb::SnapshotChunk> chunks = sent.Chunks(1000);
  SnapshotAssembler first(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
  ASSERT_TRUE(first.Add(chunks[0]).ok());
  EXPECT_EQ(HeldCheckpointBytes(options, 57, 0x5eed).status().code(),
            absl::StatusCode::kUnavailable);
  SnapshotAssembler second(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
  EXPECT_EQ(second.Add(chunks[0]).code(), absl::StatusCode::kUnavailable);
  for (size_t i = 1; i < chunks.size(); ++i) ASSERT_TRUE(first.Add(chunks[i]).ok());
  EXPECT_TRUE(first.complete());
}

TEST(CheckpointResumeTest, TheFreeSpaceNeededIsWhatIsStillToCome) {
  TempDir tmp;
  SentCheckpoint sent(tmp.path() + "/sent", {{"000012.sst", 3000}});
  CheckpointSinkOptions options = SinkInto(tmp.path());
  BreakAfter(sent.Chunks(1000), 2, options);
  options.free_bytes = [](const std::string&) -> absl::StatusOr<uint64_t> { return 1000; };
  SnapshotAssembler assembler(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
  for (const peerpb::SnapshotChunk& chunk : sent.Chunks(1000, 2000)) {
    ASSERT_TRUE(assembler.Add(chunk).ok());
  }
  EXPECT_TRUE(assembler.complete());
}

TEST(CheckpointNamesTest, OnlyCompleteCheckpointsParseAsReceived) {
  EXPECT_EQ(ReceivedCheckpointPath("/d", 0x39), "/d/snap-recv-0000000000000039");
  EXPECT_EQ(ParseReceivedCheckpointName("snap-recv-0000000000000039"), 0x39u);
  EXPECT_EQ(ParseReceivedCheckpointName("snap-recv-ffffffffffffffff"), ~uint64_t{0});
  EXPECT_FALSE(ParseReceivedCheckpointName("snap-recv-0000000000000039.tmp-0").has_value());
  EXPECT_FALSE(ParseReceivedCheckpointName("snap-recv-39").has_value());
  EXPECT_FALSE(ParseReceivedCheckpointName("snap-recv-00000000000000FF").has_value());
  EXPECT_FALSE(ParseReceivedCheckpointName("snap-send-0000000000000039").has_value());
  EXPECT_TRUE(IsPartialCheckpointName("snap-recv-0000000000000039.tmp-3"));
  EXPECT_EQ(PartialCheckpointPath("/d", 0x39, 0x5eed),
            "/d/snap-recv-0000000000000039.part-0000000000005eed");
  EXPECT_TRUE(IsPartialCheckpointName("snap-recv-0000000000000039.part-0000000000005eed"));
  EXPECT_TRUE(IsPartialCheckpointName("snap-recv-0000000000000039.part-0000000000005eed.manifest"));
  EXPECT_FALSE(
      ParseReceivedCheckpointName("snap-recv-0000000000000039.part-0000000000005eed").has_value());
  EXPECT_FALSE(IsPartialCheckpointName("snap-recv-0000000000000039"));
  EXPECT_FALSE(IsPartialCheckpointName("kv"));
}

TEST(CheckpointNamesTest, TransferIdsAreNeverZeroAndDoNotRepeat) {
  std::set<uint64_t> ids;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t id = NewTransferId();
    EXPECT_NE(id, 0u);
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

}  // namespace
}  // namespace raftkv::transport
