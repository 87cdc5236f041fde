// Env: the one door between raftkv and the file system.
//
// Everything the storage layer does to disk goes through an Env, so tests and the simulator can
// swap in FaultInjectionEnv (an in-memory file system that forgets unsynced data on Crash()) or
// ErrorInjectionEnv (fails chosen operations with EIO/ENOSPC). PosixEnv (Env::Default()) is the
// real thing. Errors are absl::Status values whose message names the operation, the path and
// the errno text, e.g. "fdatasync /data/wal-0001.log: Input/output error".
//
// Durability contract, which every implementation honours and FaultInjectionEnv enforces:
//   - bytes written to a File survive a crash only after File::Sync/DataSync returned OK;
//   - creating, renaming or removing a name survives a crash only after SyncDir on the directory
//     holding that name returned OK.
//
// Thread-safety: an Env may be used from several threads at once. A File may be used by one
// thread at a time, except that ReadAt may run concurrently with other ReadAt calls, and Sync or
// DataSync with one other thread's writes (WalCommitter syncs group n while writing group n+1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace raftkv::io {

enum class OpenMode {
  kReadOnly,         // must exist
  kReadWrite,        // must exist
  kCreate,           // create if missing, keep contents otherwise
  kCreateExclusive,  // fail with AlreadyExists if the name exists
  kCreateTruncate,   // create if missing, empty it otherwise
};

// What a file with direct writes on takes: offsets, lengths and buffer addresses that are
// multiples of this (the logical block size of every common device, and the page size).
inline constexpr size_t kDirectIoAlignment = 4096;

class File {
 public:
  virtual ~File() = default;

  // Writes at the end of the file (its current size).
  virtual absl::Status Append(std::string_view data) = 0;
  // Writes at `offset`, growing the file if needed. Used to fill preallocated space.
  virtual absl::Status WriteAt(uint64_t offset, std::string_view data) = 0;
  // Writes the concatenation of `pieces` at `offset`, exactly as WriteAt of the concatenated
  // bytes would, but gathered from the pieces' own buffers (pwritev) instead of being copied
  // into one first. It is one write to the durability contract: until a sync, a crash may keep
  // any prefix of the concatenation, including one that ends inside a piece.
  virtual absl::Status GatherWriteAt(uint64_t offset, std::span<const std::string_view> pieces) = 0;
  // Reads up to n bytes at offset into scratch; returns the bytes read (fewer only at the end).
  virtual absl::StatusOr<size_t> ReadAt(uint64_t offset, size_t n, char* scratch) const = 0;
  // fsync: data and all metadata.
  virtual absl::Status Sync() = 0;
  // fdatasync: data and the metadata needed to read it back (size), not timestamps.
  virtual absl::Status DataSync() = 0;
  virtual absl::Status Truncate(uint64_t size) = 0;
  // Reserves space so that the file is at least `size` bytes long; new bytes read as zero.
  // Later writes into it do not change the file size and find their space reserved, which
  // makes ENOSPC appear here rather than in the middle of a commit. It does not make every
  // fdatasync free of metadata: on ext4 the reserved blocks stay "unwritten" until first written,
  // and the flush after that first write also writes the extent change.
  virtual absl::Status Allocate(uint64_t size) = 0;
  virtual absl::StatusOr<uint64_t> Size() const = 0;
  virtual absl::Status Close() = 0;
  // Direct writes (O_DIRECT): with `on`, later writes go from the caller's buffer to the device
  // without a copy in the page cache and without the kernel's writeback, which is what a large
  // file written once at disk speed needs (a received checkpoint). Each write must then start
  // at an offset, cover a length and come from an address that are multiples of
  // kDirectIoAlignment; a write that does not fails with InvalidArgument. Durability is
  // unchanged: a file's size and blocks still need Sync. Unimplemented where the Env or the file
  // system has no direct I/O, and the file stays as it was. Turning them off always succeeds.
  virtual absl::Status SetDirectWrites(bool on);
};

// Held while the process owns a directory; released when destroyed (or when the process dies).
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide PosixEnv. Never destroyed.
  static Env* Default();

  virtual absl::StatusOr<std::unique_ptr<File>> OpenFile(const std::string& path,
                                                         OpenMode mode) = 0;
  // Creates a directory (and missing parents); OK if it exists.
  virtual absl::Status CreateDir(const std::string& path) = 0;
  // Makes creations, renames and removals of names inside `dir` durable.
  virtual absl::Status SyncDir(const std::string& dir) = 0;
  // Atomically replaces `to` (if present) with `from`.
  virtual absl::Status Rename(const std::string& from, const std::string& to) = 0;
  virtual absl::Status Remove(const std::string& path) = 0;
  // Names (not paths) of the entries in dir, without "." and "..", in no particular order.
  virtual absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  virtual absl::StatusOr<bool> Exists(const std::string& path) = 0;
  // Takes an exclusive lock on `path` (created if missing). FailedPrecondition if another
  // holder, in this process or another one, has it.
  virtual absl::StatusOr<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;
};

// "dir/name", without doubling the slash.
std::string JoinPath(std::string_view dir, std::string_view name);
// The directory part of a path ("." when there is none).
std::string DirName(std::string_view path);

// An error built from errno: the code follows absl::ErrnoToStatusCode (ENOSPC becomes
// ResourceExhausted, EIO Unknown...), the message is "<op> <path>: <strerror>".
absl::Status ErrnoError(int error_number, std::string_view op, std::string_view path);

// Reads a whole file.
absl::StatusOr<std::string> ReadFileToString(Env* env, const std::string& path);

}  // namespace raftkv::io
