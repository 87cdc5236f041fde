// What a broken, resumable checkpoint transfer leaves on the receiving member, and the rules
// for continuing it.
//
// A transfer whose manifest has a transfer id writes into PartialCheckpointPath(dir, index, id)
// and stores the manifest it is copying beside it (PartialManifestPath). When the stream breaks
// (and only then: a transfer refused for a bad chunk, a checksum mismatch or a write error
// removes its files) the partial copy stays, and the next transfer of the same checkpoint (same
// index, same id, same manifest) continues it. What is held is measured on disk against the
// stored manifest, never taken from the sender's word: the files in manifest order, each one
// whole but the last. Partials live as long as the process: a start-up removes them
// (server/engine_files.h), so a partial never has to survive a power loss, and the files are
// fsynced before the checkpoint gets its final name, as for any transfer.
//
// At most one transfer writes to a partial at a time (PartialClaim), and a transfer that starts
// removes every partial no transfer is using but its own, so a member keeps at most one idle
// partial checkpoint, plus those being written.
//
// Thread-safety: thread-safe (claims are process-wide).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "io/env.h"
#include "raftkv/peerpb/peer.pb.h"

namespace raftkv::transport {

// A partial checkpoint's directory, reserved for one transfer while the claim lives.
class PartialClaim {
 public:
  // Null when another transfer holds `path`.
  static std::unique_ptr<PartialClaim> Take(const std::string& path);
  ~PartialClaim();
  PartialClaim(const PartialClaim&) = delete;
  PartialClaim& operator=(const PartialClaim&) = delete;

  // Removes the partial checkpoints in `dir` (directories and their manifests) that no
  // transfer holds, but `keep` (a partial's path). Failures only cost space.
  static void RemoveUnclaimed(io::Env* env, const std::string& dir, const std::string& keep);

 private:
  explicit PartialClaim(std::string path) : path_(std::move(path)) {}
  const std::string path_;
};

// Whether two manifests describe the same checkpoint: index, id, and the same files in the
// same order with the same sizes.
bool SameCheckpoint(const peerpb::CheckpointManifest& a, const peerpb::CheckpointManifest& b);

// The manifest stored beside the partial at `path`. NotFound without one, DataLoss when it is
// larger than `max_bytes` or does not parse.
absl::StatusOr<peerpb::CheckpointManifest> ReadPartialManifest(io::Env* env,
                                                               const std::string& path,
                                                               uint64_t max_bytes);
absl::Status WritePartialManifest(io::Env* env, const std::string& path,
                                  const peerpb::CheckpointManifest& manifest);

// Where a partial copy stands: the bytes of the stream it holds, the file the next byte goes
// to (manifest order), and how much of that file is there already.
struct HeldPart {
  uint64_t bytes = 0;
  size_t next_file = 0;
  // Whether that file exists yet, and its bytes.
  bool next_file_started = false;
  uint64_t next_file_bytes = 0;
};

// Measures the partial at `path` against `manifest`. DataLoss when its files are not what a
// transfer of that manifest writes: a file longer than listed, a file after one that is not
// whole, a file the manifest does not list.
absl::StatusOr<HeldPart> MeasurePartial(io::Env* env, const std::string& path,
                                        const peerpb::CheckpointManifest& manifest);

// Removes a partial's directory and its manifest. Failures only cost space.
void RemovePartial(const std::string& path);

}  // namespace raftkv::transport
