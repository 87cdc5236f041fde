// Snapshot files: one raftpb::Snapshot per file, written so that a crash never leaves a
// half-written file under a final name.
//
// Format: "RKVSNAP1" (8 bytes) | masked CRC32C of the payload (u32 LE) | zero (u32) |
// payload length (u64 LE) | payload = serialized raftpb::Snapshot. Name:
// snap-<index:016x>-<term:016x>.snap (see wal_format.h).
//
// Writing goes to <name>.tmp, fsync, rename to <name>, fsync of the directory. A crash
// before the rename leaves only the .tmp file (deleted on the next open); after the rename
// but before the directory sync, the file may or may not exist after the crash, and either
// way it is not yet referenced by the WAL, so it does not count (see wal_format.h).
//
// Thread-compatible free functions.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "io/env.h"
#include "raftkv/raftpb/raft.pb.h"

namespace raftkv::storage {

// Writes `snapshot` durably as dir/SnapshotFileName(index, term).
absl::Status WriteSnapshotFile(io::Env* env, const std::string& dir,
                               const raftpb::Snapshot& snapshot);

// Reads and verifies a snapshot file. DataLoss naming the file if it is damaged.
absl::StatusOr<raftpb::Snapshot> ReadSnapshotFile(io::Env* env, const std::string& path);

}  // namespace raftkv::storage
