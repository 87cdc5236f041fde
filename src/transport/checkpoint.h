// Snapshots of a state on disk travel as the files of a key-value engine checkpoint instead of
// inside the raft message (docs/storage.md, "Snapshots of a state on disk").
//
// Sending: for each MsgSnapshot, the sender asks the member's CheckpointSource whether the
// snapshot's data is the state itself (sent inline, in chunks, as always) or a reference to a
// state on disk, in which case the source makes a checkpoint for this transfer; the sender
// streams its files and then releases it. Receiving: the files are written into a directory of
// their own (checkpoint_sink.h) and kept, complete and fsynced, as ReceivedCheckpointPath(dir,
// index) until the member installs them.
//
// Thread-safety: a CheckpointSource is called from the senders' snapshot threads, concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "raftkv/raftpb/raft.pb.h"

namespace raftkv::transport {

struct CheckpointFile {
  std::string name;
  uint64_t size_bytes = 0;
};

// A checkpoint made for one transfer.
struct CheckpointFiles {
  // The directory holding the files, and the files in the order they are sent.
  std::string dir;
  std::vector<CheckpointFile> files;
  // The applied index of the state the files hold.
  uint64_t index = 0;
  // The MsgSnapshot's data to deliver with the files: the reference, naming `index`.
  std::string snapshot_data;
};

class CheckpointSource {
 public:
  virtual ~CheckpointSource() = default;
  // For a MsgSnapshot about to be sent: nullopt when its data is the state itself (it is sent
  // inline); otherwise a fresh checkpoint of this member's state, at or after the snapshot's
  // index. May take a while (it may flush the engine).
  virtual absl::StatusOr<std::optional<CheckpointFiles>> Make(const raftpb::Snapshot& snapshot) = 0;
  // The transfer of `checkpoint` ended, delivered or not: its files may go.
  virtual void Release(const CheckpointFiles& checkpoint) = 0;
};

// <dir>/snap-recv-<index as 16 hex digits>: a received checkpoint, complete and durable,
// holding the state at applied index `index`.
std::string ReceivedCheckpointPath(std::string_view dir, uint64_t index);
// The index a received checkpoint's directory name (not path) names; nullopt for any other name.
std::optional<uint64_t> ParseReceivedCheckpointName(std::string_view name);
// Whether `name` is the directory of a checkpoint still being received (or left behind by a
// transfer that failed or a process that died): snap-recv-<index>.tmp-<n>.
bool IsPartialCheckpointName(std::string_view name);
// The directory a transfer writes into before it is complete; `n` tells concurrent ones apart.
std::string PartialCheckpointPath(std::string_view dir, uint64_t index, uint64_t n);

}  // namespace raftkv::transport
