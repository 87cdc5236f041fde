#include "storage/segment_scan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace raftkv::storage {

absl::StatusOr<SegmentScan> ScanSegment(std::string_view data, const std::string& path,
                                        bool is_newest, const RecordVisitor& visit) {
  SegmentScan scan;
  uint64_t offset = 0;
  while (offset < data.size()) {
    DecodedRecord record;
    const DecodeResult r = DecodeRecord(data.substr(offset), &record);
    if (r != DecodeResult::kOk) {
      scan.stop = r;
      break;
    }
    if (record.type == kSyncPoint) {
      uint64_t synced_end = 0;
      // A sync point can only speak of bytes written before it.
      if (!DecodeSyncPoint(record.payload, &synced_end) || synced_end > offset) {
        return absl::DataLossError(
            fmt::format("WAL segment {} is corrupt at offset {}: the sync point does not parse "
                        "or claims bytes after itself",
                        path, offset));
      }
      scan.synced_end = std::max(scan.synced_end, synced_end);
    } else if (absl::Status s = visit(record, offset); !s.ok()) {
      return s;
    }
    offset += record.size_bytes;
  }
  scan.valid_end = offset;
  if (offset >= data.size()) return scan;

  // The zero-filled preallocated tail is the common case: find the last non-zero byte first,
  // a word at a time, so a clean end costs one pass over the tail.
  uint64_t last_nonzero = data.size();
  while (last_nonzero >= offset + 8) {
    uint64_t word;
    std::memcpy(&word, data.data() + last_nonzero - 8, 8);
    if (word != 0) break;
    last_nonzero -= 8;
  }
  while (last_nonzero > offset && data[last_nonzero - 1] == 0) --last_nonzero;
  scan.garbage_bytes = last_nonzero - offset;
  if (scan.garbage_bytes == 0) return scan;

  if (!is_newest) {
    return absl::DataLossError(fmt::format(
        "WAL segment {} is corrupt at offset {} ({}); it is not the newest segment, so it was "
        "fully synced and cannot have a torn tail",
        path, offset, DecodeResultName(scan.stop)));
  }
  // Do the valid records after the bad spot prove it was synced? Records are 8-byte aligned,
  // so only aligned offsets need trying; a valid record is skipped whole.
  for (uint64_t y = offset + kRecordAlignBytes; y + kRecordHeaderBytes <= last_nonzero;) {
    DecodedRecord record;
    if (DecodeRecord(data.substr(y), &record) != DecodeResult::kOk) {
      y += kRecordAlignBytes;
      continue;
    }
    uint64_t synced_end = 0;
    if (record.type == kSyncPoint && DecodeSyncPoint(record.payload, &synced_end) &&
        synced_end > offset && synced_end <= y) {
      return absl::DataLossError(fmt::format(
          "WAL segment {} is corrupt at offset {} ({}): the sync point at offset {} records that "
          "the segment was durable up to offset {} before a later write, so this is damage to "
          "synced records, not a torn tail",
          path, offset, DecodeResultName(scan.stop), y, synced_end));
    }
    if (scan.valid_record_in_tail == 0) scan.valid_record_in_tail = y;
    y += record.size_bytes;
  }
  return scan;
}

}  // namespace raftkv::storage
