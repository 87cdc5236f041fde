// Scanning one WAL segment: walks the records, tells a torn tail from real corruption.
//
// What a crash can leave (see docs/storage.md, "Torn tail versus corruption"): bytes covered by
// a completed fdatasync are on disk; bytes written since then (the unsynced stretch: the write
// whose fdatasync did not return, and any writes made without a sync before it) may have
// reached the disk page by page in any order, so an unsynced write of several pages can leave
// its later pages on disk and its earlier ones still zero. A bad record followed by valid ones
// is therefore not by itself proof of damage to synced data. The proof is a sync point
// (wal_format.h): the record that starts a write says up to which offset the segment was
// durable when that write was issued.
//
// The rule, at the first record that does not decode (offset X):
// - everything after it is zero: the log simply ends there (the preallocated tail);
// - a valid sync point further on records synced_end > X: X was durable before a later write
//   was issued, so the damage is inside synced records: DataLoss naming the file and offset;
// - otherwise the bytes from X on can all belong to the unsynced stretch (torn, possibly with
//   later pages present): a torn tail, which the caller cuts off — but only in the newest
//   segment. Every older segment was fsynced whole before the next was created, so any damage
//   there is DataLoss.
// Damage to the last synced write when nothing written after it survived is indistinguishable
// from a torn write and is treated as one (that write was the newest).
//
// Pure function; thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "storage/wal_format.h"

namespace raftkv::storage {

struct SegmentScan {
  uint64_t valid_end = 0;                 // offset just past the last good record
  uint64_t garbage_bytes = 0;             // from valid_end to the last non-zero byte: a torn tail
  DecodeResult stop = DecodeResult::kOk;  // why the scan stopped at valid_end (kOk: end of data)
  uint64_t synced_end = 0;  // the largest synced_end a sync point before valid_end recorded
  // Offset of the first valid record inside the torn tail (0: none), i.e. later pages of the
  // torn write that reached the disk before its earlier ones.
  uint64_t valid_record_in_tail = 0;
};

// Visits every record but the sync points, in order.
using RecordVisitor = std::function<absl::Status(const DecodedRecord&, uint64_t offset)>;

absl::StatusOr<SegmentScan> ScanSegment(std::string_view data, const std::string& path,
                                        bool is_newest, const RecordVisitor& visit);

}  // namespace raftkv::storage
