// Scanning one WAL segment: walks the records, tells a torn tail from real corruption.
//
// The rule (see docs/storage.md): the WAL is written front to back and only its newest part can
// be unsynced, so damage can only be legitimate at the very end of the newest segment. At the
// first record that does not decode, the scanner looks for any well-formed record further on;
// if there is one, the damage is in the middle of the log and is reported as DataLoss with the
// file and offset. If everything after is zero, the log simply ends there (the preallocated
// tail). Otherwise the non-zero bytes are a torn write: acceptable in the newest segment (the
// caller cuts them off) and DataLoss in any older one, which was synced before the next was
// started.
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
};

using RecordVisitor = std::function<absl::Status(const DecodedRecord&, uint64_t offset)>;

absl::StatusOr<SegmentScan> ScanSegment(std::string_view data, const std::string& path,
                                        bool is_newest, const RecordVisitor& visit);

}  // namespace raftkv::storage
