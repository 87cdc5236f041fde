// PowerCutFileSystem: a rocksdb::FileSystem for tests that can lose power.
//
// It forwards every call to a real file system (the local disk by default) and keeps, beside
// the files, what a power cut would leave of them under the POSIX durability rules:
//
// - Data. Of each file written through it, the bytes that a successful FSWritableFile::Sync or
//   Fsync covered (every byte appended before the call began). RangeSync does not count
//   (sync_file_range writes pages back without the file's metadata and without a device cache
//   flush), nor does Close or Flush (the file goes on sitting in the page cache). A power cut
//   keeps exactly the synced bytes: the least that ext4 (data=ordered) may keep, and what it
//   keeps when the page cache wrote nothing back.
// - Names. A created, renamed, hard-linked or deleted name becomes durable only when its
//   directory is fsynced through FSDirectory::Fsync or FsyncWithDirOptions (whatever the fsync
//   reason RocksDB gives). A power cut undoes every name change made since its directory's last
//   fsync: a new file never made durable by a directory fsync disappears, even when its data was
//   synced; a deleted file comes back with the bytes it had synced; a rename, over an existing
//   file or not, is undone as a whole. POSIX requires that directory fsync; ext4 is more
//   lenient (fsyncing a new file also commits the journal transaction that created its name),
//   so a program correct by POSIX passes here and one that relies on ext4's extra leniency
//   fails. RocksDB fsyncs its directory after creating the files it relies on (table files,
//   MANIFEST, CURRENT, IDENTITY, and the write-ahead log at the first SyncWAL).
//
// Choices that keep it from being stricter than ext4 where a correct program would fail:
// - Directories are durable once created (CreateDir, CreateDirIfMissing); only the names of
//   files inside them are tracked. ext4 commits a mkdir with the first journal commit after
//   it, which the first fsync of anything inside forces; RocksDB never fsyncs the parent of its
//   database directory.
// - A file that existed before the wrapper first saw it is durable as it is, whole.
// - Opening an existing file for writing again (NewWritableFile truncates it, and
//   ReopenWritableFile appends) keeps its name and its object: only its data is unsynced.
// - A rename between two directories is undone in each directory separately, by that
//   directory's fsync (ext4 journals it as one transaction; RocksDB renames within a directory).
//
// Not modeled: torn or reordered writes (the unsynced bytes are lost as a whole, never kept in
// part or as garbage), overwrites inside the synced bytes (RocksDB only appends; the old bytes
// are not kept), a device that lies about its cache flushes, file metadata other than the size
// (times, permissions), hard links restored as one file (a restored name gets its own copy).
// Files RocksDB opens through NewLogger (its text LOG) and LockFile (LOCK) bypass the tracking,
// as do NewRandomRWFile and ReuseWritableFile, which are refused (RocksDB uses them only for
// external file ingestion and WAL recycling, both off here). Removed files whose bytes a power
// cut may bring back are kept in memory until their directory is fsynced: for small test
// databases.
//
// Use: give the file system to the engine (RocksDbEngine::Options::file_system), write, close
// the engine (like a crash: Options::flush_memtables_at_close off), call PowerCut(), reopen.
//
// Thread-safe: one mutex guards the bookkeeping; RocksDB calls in from its background threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "rocksdb/file_system.h"

namespace raftkv::kv::testing {

class PowerCutFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  explicit PowerCutFileSystem(
      const std::shared_ptr<rocksdb::FileSystem>& target = rocksdb::FileSystem::Default());

  static const char* kClassName() { return "PowerCutFileSystem"; }
  const char* Name() const override { return kClassName(); }

  // Power loss (see the file comment): every name changed since its directory's last fsync gets
  // back what it named then, and every file written through the wrapper is cut to its synced
  // bytes. Afterwards the files on disk are the durable state and nothing is pending.
  // FailedPrecondition while a file is open for writing through the wrapper (close the database
  // first); other errors come from the file operations themselves, and leave the files half
  // restored.
  absl::Status PowerCut();

  rocksdb::IOStatus NewWritableFile(const std::string& path, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& path, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& path, const std::string& old_path,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomRWFile(const std::string& path, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& path, const rocksdb::IOOptions& options,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& path, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Truncate(const std::string& path, size_t size,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& from, const std::string& to,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;

 private:
  class TrackedFile;
  class TrackedDirectory;

  // One file object (an inode): its size as written so far and how much of it is synced.
  struct FileState {
    uint64_t size = 0;
    uint64_t synced = 0;
  };

  // Called by TrackedFile.
  void Appended(uint64_t id, uint64_t bytes);
  void WroteThrough(uint64_t id, uint64_t end_offset);
  uint64_t SizeOf(uint64_t id);
  void Synced(uint64_t id, uint64_t size_before_sync);
  void Truncated(uint64_t id, uint64_t size);
  void TruncatedLocked(uint64_t id, uint64_t size);
  void WriterClosed();
  // Called by TrackedDirectory: runs `fsync` and, when it succeeded, makes the directory's
  // names durable. The lock is held throughout, so that no name changes while it runs.
  rocksdb::IOStatus SyncDirectory(const std::string& dir,
                                  const std::function<rocksdb::IOStatus()>& fsync);

  // The file object `path` names now: a tracked one, or one that was already on disk (adopted,
  // durable whole), or none.
  std::optional<uint64_t> NamedLocked(const std::string& path);
  // Records what `path` named at its directory's last fsync, before its first change since.
  void NoteNameChangeLocked(const std::string& path);
  // Before `path` stops naming `id`: when that was its last name and a power cut may bring the
  // file back under a durable name, keeps its synced bytes.
  rocksdb::IOStatus KeepDurableBytesLocked(const std::string& path, uint64_t id);
  bool IsDurablyNamedLocked(uint64_t id) const;
  uint64_t NewFileLocked(const std::string& path);
  std::unique_ptr<rocksdb::FSWritableFile> TrackWriterLocked(
      uint64_t id, std::unique_ptr<rocksdb::FSWritableFile> file);

  rocksdb::IOStatus ReadPrefix(const std::string& path, uint64_t bytes, std::string* out);
  rocksdb::IOStatus WriteWhole(const std::string& path, const std::string& bytes);
  rocksdb::IOStatus CutTo(const std::string& path, uint64_t size);

  std::mutex mu_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, FileState> files_;
  // Every name the wrapper tracks, by normalized path, and the file object it names now.
  std::map<std::string, uint64_t> names_;
  // Directory -> name changed since the directory's last fsync -> the file object it named at
  // that fsync (nullopt: the name did not exist).
  std::map<std::string, std::map<std::string, std::optional<uint64_t>>> unsynced_names_;
  // The synced bytes of files that lost their last name while a durable name still names them.
  std::map<uint64_t, std::string> removed_bytes_;
  int open_writers_ = 0;
};

}  // namespace raftkv::kv::testing
