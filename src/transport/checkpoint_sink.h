// The receiving end of a checkpoint transfer: writes the stream of a checkpoint's files to a
// directory of their own, never holding them in memory, and keeps them once complete.
//
// Nothing a peer sends is trusted (docs/architecture.md, "What a peer can make a member
// allocate"): file names must be plain names (letters, digits, '.', '_', '-'; not "." or "..")
// and distinct; the announced total must equal the files' sizes, stay under a configured
// maximum and fit in the space free on the file system before anything is written. Each chunk
// is written as it comes, so memory stays at one chunk and two write buffers whatever the header
// says, and disk use grows only with bytes actually received (nothing is preallocated).
//
// Large files are written with direct writes (io::File::SetDirectWrites, O_DIRECT) from two
// buffers of kDirectBufferBytes, in whole blocks: while a thread writes one, the stream fills the
// other. Only a file's last partial block goes through the page cache: a checkpoint is written
// once and read by RocksDB later, so copying it into the page cache and having the kernel write
// it back costs CPU and, on a disk that takes buffered writes at a fraction of its speed, most of
// the transfer's rate. A sink whose stream breaks writes its buffer first, so the partial copy
// holds every byte received.
//
// When the last byte arrived, the CRC-32C of the stream is checked, each file and the directory
// are fsynced, and the directory is renamed to
// ReceivedCheckpointPath (the parent fsynced too): only a complete, checked, durable checkpoint
// ever carries that name.
//
// A sink destroyed before that removes what it wrote, unless the transfer can be resumed (its
// manifest has a transfer id) and was not refused (Discard): the stream broke, and the partial
// copy stays for the next transfer of the same checkpoint (partial_checkpoint.h), which begins
// at the offset HeldCheckpointBytes answers. A sink that resumes checks that offset against the
// files on disk, reads the bytes it holds back to compute the stream's CRC-32C from byte 0 (so a
// kept byte that changed fails the checksum), and syncs them.
//
// Thread-safety: one sink is used by one thread; sinks of concurrent transfers write to
// directories of their own.
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "io/env.h"
#include "raftkv/peerpb/peer.pb.h"
#include "transport/partial_checkpoint.h"

namespace raftkv::transport {

struct CheckpointSinkOptions {
  // Where received checkpoints are kept (the member directory). Empty: checkpoints are refused.
  std::string dir;
  // The largest checkpoint accepted, whatever the free space.
  uint64_t max_size_bytes = uint64_t{256} << 30;
  // The most files one checkpoint may have.
  size_t max_files = 100'000;
  // The file system; null means io::Env::Default().
  io::Env* env = nullptr;
  // Direct writes for files of at least kDirectMinFileBytes, where the file system has them.
  bool direct_writes = true;
  // Bytes an unprivileged writer may still use on the file system holding a directory; unset
  // means statvfs(2). (Tests replace it.)
  std::function<absl::StatusOr<uint64_t>(const std::string& dir)> free_bytes;
};

// What statvfs(2) says an unprivileged writer may still use below `dir`.
absl::StatusOr<uint64_t> FreeBytesOf(const std::string& dir);

// The answer to Peer.CheckpointOffset: how many bytes of the checkpoint (index, transfer id) a
// broken transfer left in options.dir, 0 when none (or what is there is unusable; the transfer
// then starts again). Unavailable while a transfer of that checkpoint is in progress,
// FailedPrecondition when checkpoints are not accepted here.
absl::StatusOr<uint64_t> HeldCheckpointBytes(const CheckpointSinkOptions& options, uint64_t index,
                                             uint64_t transfer_id);

class CheckpointSink {
 public:
  // Files smaller than this are written through the page cache.
  static constexpr uint64_t kDirectMinFileBytes = uint64_t{1} << 20;
  // The buffer a direct write goes from: the size of each write to the device.
  static constexpr size_t kDirectBufferBytes = size_t{4} << 20;

  explicit CheckpointSink(CheckpointSinkOptions options);
  ~CheckpointSink();
  CheckpointSink(const CheckpointSink&) = delete;
  CheckpointSink& operator=(const CheckpointSink&) = delete;

  // Checks the manifest and the announced size (the sum of the files' sizes), then creates the
  // directory the files are written to, or, for a stream that resumes at `offset` > 0, takes up
  // the partial copy of the same checkpoint holding exactly `offset` bytes. InvalidArgument for
  // a bad manifest or an offset other than the bytes held, ResourceExhausted for a size over
  // the maximum or the free space, FailedPrecondition when checkpoints are not accepted here,
  // Unavailable while another transfer writes the same partial copy.
  absl::Status Begin(const peerpb::CheckpointManifest& manifest, uint64_t total_size_bytes,
                     uint64_t offset = 0);
  // The next bytes of the stream, in order. InvalidArgument past the announced size.
  absl::Status Write(std::string_view data);
  // After the last byte: checks that every byte came and the stream's CRC-32C, makes the files
  // durable and gives them their final name. DataLoss on a checksum mismatch.
  absl::Status Finish(uint32_t crc32c);
  // The transfer was refused (a malformed stream, a failed check): whatever it wrote goes when
  // the sink does, even if it could have been resumed.
  void Discard() { discard_ = true; }

  // Bytes of the stream held, those kept from an earlier transfer included.
  uint64_t written_bytes() const { return written_; }
  // Where this transfer started: the bytes a broken one had left.
  uint64_t resumed_from() const { return resumed_from_; }
  // The checkpoint's directory: its final path once Finish returned OK.
  const std::string& path() const { return path_; }

 private:
  // Makes the current file durable and closes it, then opens the next one with room left
  // (creating, syncing and closing the empty ones on the way).
  absl::Status NextFile();
  absl::Status CloseFile();
  // Takes up the partial copy at path_ holding `offset` bytes of `manifest`'s stream.
  absl::Status Resume(const peerpb::CheckpointManifest& manifest, uint64_t offset);
  absl::Status CheckFreeSpace(uint64_t needed) const;
  // The partial copy at path_, if it is of `manifest`'s checkpoint.
  absl::StatusOr<HeldPart> HeldOf(const peerpb::CheckpointManifest& manifest) const;
  // Reads the files held back (CRC-32C from byte 0) and syncs them; opens the one to go on with.
  absl::Status ReadBack(const HeldPart& held);
  // Makes `file`, of `size` bytes whose first `held` are on disk, the one the stream goes to,
  // with direct writes when it is large, starts at a block boundary and the file system can.
  void StartFile(std::unique_ptr<io::File> file, uint64_t held, uint64_t size);
  // Appends to the current file: into the direct buffer, or through the page cache.
  absl::Status AppendToFile(std::string_view piece);
  // Writes the whole blocks of the direct buffer from a thread of its own (StartWrite) while the
  // stream fills the other buffer; with `to_the_end`, waits for that write and writes the rest
  // (the file's tail) through the page cache.
  absl::Status FlushDirect(bool to_the_end);
  // Hands the first `bytes` of the direct buffer to a writer thread and swaps the buffers.
  void StartWrite(size_t bytes);
  // Waits for the write StartWrite began, if any: its status (a refused alignment is
  // written again through the page cache, and the file goes on that way; after any other
  // failure nothing more is written to the file).
  absl::Status AwaitWrite();

  // Memory aligned for direct writes.
  struct AlignedFree {
    void operator()(char* p) const;
  };

  CheckpointSinkOptions options_;
  io::Env* env_;
  uint64_t index_ = 0;
  std::vector<peerpb::CheckpointFile> files_;
  uint64_t total_ = 0;
  uint64_t written_ = 0;
  uint64_t resumed_from_ = 0;
  uint32_t crc_ = 0;
  // The file being written (files_[next_file_ - 1]) and the bytes it still expects.
  std::unique_ptr<io::File> file_;
  uint64_t file_remaining_ = 0;
  size_t next_file_ = 0;
  // Direct writes of the current file: file_on_disk_ bytes of it are written or being written,
  // the next direct_buffered_ wait in direct_buffer_. While in_flight_ is valid, a writer
  // thread writes in_flight_bytes_ of spare_buffer_ at in_flight_offset_, and nothing else
  // touches file_. (Both buffers are allocated with the first large file.)
  bool direct_ = false;
  uint64_t file_on_disk_ = 0;
  size_t direct_buffered_ = 0;
  std::unique_ptr<char[], AlignedFree> direct_buffer_;
  std::unique_ptr<char[], AlignedFree> spare_buffer_;
  std::future<absl::Status> in_flight_;
  uint64_t in_flight_offset_ = 0;
  size_t in_flight_bytes_ = 0;
  // The directory written to: partial until Finish renames it.
  std::string path_;
  // A resumable transfer: its partial copy is claimed, and kept if the stream breaks.
  std::unique_ptr<PartialClaim> claim_;
  bool created_ = false;
  bool finished_ = false;
  bool discard_ = false;
};

}  // namespace raftkv::transport
