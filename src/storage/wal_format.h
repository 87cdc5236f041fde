// The on-disk format of the write-ahead log: record framing, payloads and file names.
//
// A data directory holds
//   LOCK                         flock()ed by the process that owns the directory
//   wal-<seq:016x>.log           WAL segments, seq = 1, 2, 3... without gaps
//   snap-<index:016x>-<term:016x>.snap   snapshot files (see snapshot_file.h)
//   *.tmp                        a segment or snapshot being created; never read, deleted on
//                                open (a crash in the middle of a roll or snapshot leaves one)
//
// A segment is a sequence of records, each starting at a multiple of 8 bytes:
//   +---------------+-------------------------------+-------------+---------------+
//   | crc (4 bytes) | length (24 bits) | type (8)   | payload     | zero padding  |
//   +---------------+-------------------------------+-------------+---------------+
// little-endian; `crc` is the masked CRC32C of the length/type word and the payload, so a
// damaged length is caught too; padding brings the record to a multiple of 8 bytes. A record
// header of eight zero bytes is not a record: it marks the end of the log, and is what the
// zero-filled preallocated tail of the newest segment reads as.
//
// Record types and payloads (integers are little-endian u64 unless stated):
//   kSegmentHeader (first record of every segment):
//       seq, last_index (the log's last index when the segment was started), hard state
//       (term, vote, commit), snapshot marker (index, term, u64 flags: bit 0 = present),
//       so that removing older segments never loses the newest hard state or snapshot marker.
//   kEntry:      a serialized raftpb::Entry. An entry whose index is not above the log's last
//                index replaces that entry and everything after it (raft overwrote a
//                conflicting suffix, §5.3); truncation is therefore an append.
//   kHardState:  term, vote, commit.
//   kSnapshot:   index, term, u64 flags (bit 0 = "replace": the whole log was replaced by an
//                installed snapshot; otherwise entries after index are kept). The snapshot
//                file with this index and term becomes the current one once this record is
//                durable; a snapshot file newer than the last marker was never committed.
//   kSyncPoint (type 5): u64 synced_end — when the write that starts with this record was
//                issued, this segment was known durable (an fdatasync had returned) up to byte
//                offset synced_end. It is how recovery tells a torn unsynced tail from damage to
//                synced records (segment_scan.h). It belongs to the framing: ScanSegment reads
//                it and never hands it to a record visitor, so it is not a RecordType
//                enumerator that every switch over record types must handle.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "raftkv/raftpb/raft.pb.h"

namespace raftkv::storage {

enum class RecordType : uint8_t {
  kSegmentHeader = 1,
  kEntry = 2,
  kHardState = 3,
  kSnapshot = 4,
};
// See kSyncPoint above: decoded like any record, consumed by ScanSegment.
inline constexpr RecordType kSyncPoint = static_cast<RecordType>(5);

inline constexpr size_t kRecordHeaderBytes = 8;
inline constexpr size_t kRecordAlignBytes = 8;
inline constexpr uint32_t kMaxRecordPayloadBytes = (1u << 24) - 1;

// Bytes a record with `payload_bytes` of payload occupies on disk.
inline uint64_t RecordBytes(uint64_t payload_bytes) {
  return kRecordHeaderBytes +
         (payload_bytes + kRecordAlignBytes - 1) / kRecordAlignBytes * kRecordAlignBytes;
}

// Appends the framed record to *out. REQUIRES: payload.size() <= kMaxRecordPayloadBytes.
void AppendRecord(RecordType type, std::string_view payload, std::string* out);

// Frames a record whose payload_bytes-long payload the caller has already written at
// record + kRecordHeaderBytes: fills in the length/type word, zeroes the padding and sets the
// checksum. `record` points at RecordBytes(payload_bytes) bytes.
// REQUIRES: payload_bytes <= kMaxRecordPayloadBytes.
void SealRecord(RecordType type, size_t payload_bytes, char* record);

// Appends a record whose payload `write_payload(char* dst)` serializes in place, straight into
// *out, which saves a copy of large payloads (entries). It must write exactly payload_bytes.
template <typename WritePayload>
void AppendRecordInPlace(RecordType type, size_t payload_bytes, WritePayload write_payload,
                         std::string* out) {
  const size_t start = out->size();
  out->resize(start + RecordBytes(payload_bytes));
  write_payload(out->data() + start + kRecordHeaderBytes);
  SealRecord(type, payload_bytes, out->data() + start);
}

enum class DecodeResult {
  kOk,
  kZero,       // eight zero bytes: end of log
  kTruncated,  // the record runs past the end of the buffer
  kBadType,
  kBadChecksum,
};
const char* DecodeResultName(DecodeResult r);

struct DecodedRecord {
  RecordType type;
  std::string_view payload;
  uint64_t size_bytes;  // the whole framed record, padding included
};

// Decodes the record at the start of `data`.
DecodeResult DecodeRecord(std::string_view data, DecodedRecord* record);

struct SnapshotMarker {
  uint64_t index = 0;
  uint64_t term = 0;
  bool operator==(const SnapshotMarker&) const = default;
};

// The state a segment header records.
struct SegmentHeader {
  uint64_t seq = 0;
  uint64_t last_index = 0;
  raftpb::HardState hard_state;
  std::optional<SnapshotMarker> snapshot;
};

std::string EncodeSegmentHeader(const SegmentHeader& h);
bool DecodeSegmentHeader(std::string_view payload, SegmentHeader* h);

std::string EncodeHardState(const raftpb::HardState& hs);
bool DecodeHardState(std::string_view payload, raftpb::HardState* hs);

std::string EncodeSyncPoint(uint64_t synced_end);
bool DecodeSyncPoint(std::string_view payload, uint64_t* synced_end);

std::string EncodeSnapshotMarker(const SnapshotMarker& m, bool replace);
bool DecodeSnapshotMarker(std::string_view payload, SnapshotMarker* m, bool* replace);

// File names.
std::string SegmentFileName(uint64_t seq);
std::optional<uint64_t> ParseSegmentFileName(std::string_view name);
std::string SnapshotFileName(uint64_t index, uint64_t term);
std::optional<SnapshotMarker> ParseSnapshotFileName(std::string_view name);
inline constexpr std::string_view kTempSuffix = ".tmp";
inline constexpr std::string_view kLockFileName = "LOCK";

}  // namespace raftkv::storage
