#include "storage/segment_scan.h"

#include <fmt/format.h>

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
    if (absl::Status s = visit(record, offset); !s.ok()) return s;
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

  // Is anything after the bad spot still a good record? Records are 8-byte aligned, so only
  // aligned offsets need trying.
  for (uint64_t y = offset + kRecordAlignBytes; y + kRecordHeaderBytes <= last_nonzero;
       y += kRecordAlignBytes) {
    DecodedRecord record;
    if (DecodeRecord(data.substr(y), &record) == DecodeResult::kOk) {
      return absl::DataLossError(fmt::format(
          "WAL segment {} is corrupt at offset {} ({}); a valid record follows at offset {}, "
          "so this is damage inside the log, not a torn tail",
          path, offset, DecodeResultName(scan.stop), y));
    }
  }
  if (scan.garbage_bytes > 0 && !is_newest) {
    return absl::DataLossError(fmt::format(
        "WAL segment {} is corrupt at offset {} ({}); it is not the newest segment, so it was "
        "fully synced and cannot have a torn tail",
        path, offset, DecodeResultName(scan.stop)));
  }
  return scan;
}

}  // namespace raftkv::storage
