// What the checkpoint transfer tests share: a checkpoint's files on the sending side, the
// chunks they travel in, and a receiver's directory and options.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "io/scratch_directory.h"
#include "transport/checkpoint.h"
#include "transport/checkpoint_chunks.h"
#include "transport/checkpoint_sink.h"
#include "transport/snapshot_chunks.h"

namespace raftkv::transport {


// A directory of real files for one test, removed with everything in it.
class TempDir : public io::ScratchDirectory {
 public:
  TempDir() : ScratchDirectory("raftkv-sink") {
    if (path().empty()) ADD_FAILURE() << "mkdtemp failed";
  }
};

inline std::string Pattern(size_t n, int seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 31 + seed);
  return s;
}

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename());
  }
  std::sort(names.begin(), names.end());
  return names;
}

inline raftpb::Message SnapshotMessage() {
  raftpb::Message m;
  m.set_msg_type(raftpb::MSG_SNAPSHOT);
  m.set_from(1);
  m.set_to(2);
  m.set_term(7);
  m.mutable_snapshot()->mutable_metadata()->set_index(42);
  m.mutable_snapshot()->set_data("the reference the leader took");
  return m;
}

// A checkpoint on the sending side: files of the given sizes in a directory of their own.
struct SentCheckpoint {
  SentCheckpoint(const std::string& dir, const std::vector<std::pair<std::string, size_t>>& files) {
    checkpoint.dir = dir;
    checkpoint.index = 57;
    checkpoint.snapshot_data = "the reference naming 57";
    checkpoint.transfer_id = 0x5eed;
    std::filesystem::create_directories(dir);
    int seed = 1;
    for (const auto& [name, size] : files) {
      contents[name] = Pattern(size, seed++);
      std::ofstream(dir + "/" + name, std::ios::binary) << contents[name];
      checkpoint.files.push_back({name, size});
    }
  }

  std::vector<peerpb::SnapshotChunk> Chunks(size_t chunk_size, uint64_t start_offset = 0) const {
    CheckpointChunker chunker(SnapshotMessage(), checkpoint, /*cluster_id=*/9, chunk_size,
                              /*env=*/nullptr, start_offset);
    std::vector<peerpb::SnapshotChunk> chunks;
    while (true) {
      absl::StatusOr<std::optional<peerpb::SnapshotChunk>> chunk = chunker.Next();
      EXPECT_TRUE(chunk.ok()) << chunk.status();
      if (!chunk.ok() || !chunk->has_value()) break;
      chunks.push_back(**chunk);
    }
    return chunks;
  }

  CheckpointFiles checkpoint;
  std::map<std::string, std::string> contents;
};

inline CheckpointSinkOptions SinkInto(const std::string& dir) {
  CheckpointSinkOptions options;
  options.dir = dir;
  options.free_bytes = [](const std::string&) -> absl::StatusOr<uint64_t> {
    return uint64_t{1} << 40;
  };
  return options;
}

inline peerpb::SnapshotChunk Header(std::vector<std::pair<std::string, uint64_t>> files) {
  peerpb::SnapshotChunk chunk;
  *chunk.mutable_message() = SnapshotMessage();
  chunk.mutable_checkpoint()->set_index(57);
  uint64_t total = 0;
  for (const auto& [name, size] : files) {
    peerpb::CheckpointFile* file = chunk.mutable_checkpoint()->add_files();
    file->set_name(name);
    file->set_size_bytes(size);
    total += size;
  }
  chunk.set_total_size_bytes(total);
  return chunk;
}

// Sums the data the chunks carry: what went over the wire.
inline uint64_t DataBytes(const std::vector<peerpb::SnapshotChunk>& chunks) {
  uint64_t sum = 0;
  for (const peerpb::SnapshotChunk& chunk : chunks) sum += chunk.data().size();
  return sum;
}

// Feeds the first `count` chunks to a receiver, then the stream breaks (the assembler goes
// away without an error).
inline void BreakAfter(const std::vector<peerpb::SnapshotChunk>& chunks, size_t count,
                const CheckpointSinkOptions& options) {
  SnapshotAssembler assembler(SnapshotAssembler::kDefaultMaxSizeBytes, &options);
  for (size_t i = 0; i < count; ++i) ASSERT_TRUE(assembler.Add(chunks[i]).ok()) << i;
  ASSERT_FALSE(assembler.complete());
}

}  // namespace raftkv::transport
