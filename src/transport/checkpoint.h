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
  // Tells this checkpoint from any other at the same index (NewTransferId); a receiver resumes
  // only a partial copy of the checkpoint with the same id. 0: not resumable.
  uint64_t transfer_id = 0;
};

class CheckpointSource {
 public:
  virtual ~CheckpointSource() = default;
  // For a MsgSnapshot about to be sent: nullopt when its data is the state itself (it is sent
  // inline); otherwise a fresh checkpoint of this member's state, at or after the snapshot's
  // index. May take a while (it may flush the engine).
  virtual absl::StatusOr<std::optional<CheckpointFiles>> Make(const raftpb::Snapshot& snapshot) = 0;
  // For a MsgSnapshot about to be sent with a checkpoint made earlier, at `index` (at or after
  // the snapshot's): the data to send instead of the snapshot's, its reference naming `index`;
  // nullopt when the snapshot's data is the state itself. A checkpoint holds only committed
  // entries, so one at `index` serves every snapshot at or below it.
  virtual absl::StatusOr<std::optional<std::string>> Retarget(const raftpb::Snapshot& snapshot,
                                                              uint64_t index) = 0;
  // The transfer of `checkpoint` ended, delivered or not: its files may go.
  virtual void Release(const CheckpointFiles& checkpoint) = 0;
};

// <dir>/snap-recv-<index as 16 hex digits>: a received checkpoint, complete and durable,
// holding the state at applied index `index`.
std::string ReceivedCheckpointPath(std::string_view dir, uint64_t index);
// The index a received checkpoint's directory name (not path) names; nullopt for any other name.
std::optional<uint64_t> ParseReceivedCheckpointName(std::string_view name);
// Whether `name` is a checkpoint still being received, or kept from a broken transfer, or left
// behind by a process that died: snap-recv-<index>.tmp-<n>, snap-recv-<index>.part-<id> and its
// manifest file.
bool IsPartialCheckpointName(std::string_view name);
// The directory a transfer that cannot be resumed (no transfer id) writes into before it is
// complete; `n` tells concurrent ones apart.
std::string TemporaryCheckpointPath(std::string_view dir, uint64_t index, uint64_t n);
// The directory a resumable transfer writes into before it is complete, and keeps when the
// stream breaks: snap-recv-<index>.part-<transfer id as 16 hex digits>.
std::string PartialCheckpointPath(std::string_view dir, uint64_t index, uint64_t transfer_id);
// Beside a partial checkpoint's directory: the manifest it is a partial copy of.
std::string PartialManifestPath(std::string_view partial_path);

// A fresh transfer id: 64 random bits from the system's random source, never 0.
uint64_t NewTransferId();

}  // namespace raftkv::transport
