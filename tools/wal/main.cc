// raftkv-wal: inspects a raftkv data directory without changing it.
//
//   raftkv-wal [--records] DIR
//
// Lists the WAL segments (header, record count, how the segment ends), optionally every record
// (offset, type, term, index, size), the hard state and snapshot marker the log ends with, and
// the snapshot files; verifies every checksum on the way. It takes no lock, so it can look at
// the directory of a running server (the newest segment may then still be growing).
//
// Exit status: 0 when everything checks out (a torn tail, which the next open cuts off, is
// reported but is not an error), 1 for usage or I/O errors, 2 when anything is corrupt.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "io/env.h"
#include "storage/segment_scan.h"
#include "storage/snapshot_file.h"
#include "storage/wal_format.h"

namespace raftkv::storage {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 1;
constexpr int kExitCorrupt = 2;

std::string HardStateText(const raftpb::HardState& hs) {
  return fmt::format("term={} vote={} commit={}", hs.term(), hs.vote(), hs.commit());
}

const char* TypeName(RecordType t) {
  switch (t) {
    case RecordType::kSegmentHeader:
      return "header";
    case RecordType::kEntry:
      return "entry";
    case RecordType::kHardState:
      return "hardstate";
    case RecordType::kSnapshot:
      return "snapshot";
  }
  return "?";
}

struct Totals {
  raftpb::HardState hard_state;
  std::optional<SnapshotMarker> snapshot;
  uint64_t first_entry = 0, last_entry = 0, entries = 0;
};

// Prints one segment; returns the exit status it deserves.
int InspectSegment(io::Env* env, const std::string& path, bool newest, bool show_records,
                   Totals* totals) {
  auto data = io::ReadFileToString(env, path);
  if (!data.ok()) {
    fmt::print(stderr, "{}\n", data.status().ToString());
    return kExitUsage;
  }
  uint64_t records = 0;
  std::string header_text = "(none)";
  auto visit = [&](const DecodedRecord& r, uint64_t offset) -> absl::Status {
    ++records;
    std::string detail;
    switch (r.type) {
      case RecordType::kSegmentHeader: {
        SegmentHeader h;
        if (DecodeSegmentHeader(r.payload, &h)) {
          header_text = fmt::format("seq={} last_index={} {}", h.seq, h.last_index,
                                    HardStateText(h.hard_state));
          if (h.snapshot) {
            header_text += fmt::format(" snapshot={}/{}", h.snapshot->index, h.snapshot->term);
          }
          detail = header_text;
        }
        break;
      }
      case RecordType::kEntry: {
        raftpb::Entry e;
        if (!e.ParseFromArray(r.payload.data(), static_cast<int>(r.payload.size()))) {
          return absl::DataLossError(
              fmt::format("{}: entry record at offset {} does not parse", path, offset));
        }
        detail = fmt::format("term={} index={} type={} data={}B", e.term(), e.index(),
                             static_cast<int>(e.entry_type()), e.data().size());
        if (totals->entries == 0 || e.index() < totals->first_entry) {
          totals->first_entry = e.index();
        }
        totals->last_entry = e.index();  // a lower index overwrites the suffix
        ++totals->entries;
        break;
      }
      case RecordType::kHardState:
        DecodeHardState(r.payload, &totals->hard_state);
        detail = HardStateText(totals->hard_state);
        break;
      case RecordType::kSnapshot: {
        SnapshotMarker m;
        bool replace = false;
        DecodeSnapshotMarker(r.payload, &m, &replace);
        totals->snapshot = m;
        detail = fmt::format("index={} term={}{}", m.index, m.term,
                             replace ? " (replaces the log)" : "");
        break;
      }
    }
    if (show_records) {
      fmt::print("  {:>10}  {:<9}  {:>7}B  {}\n", offset, TypeName(r.type), r.size_bytes, detail);
    }
    return absl::OkStatus();
  };
  auto scan = ScanSegment(*data, path, newest, visit);
  if (!scan.ok()) {
    fmt::print("{}  CORRUPT: {}\n", path, std::string(scan.status().message()));
    return kExitCorrupt;
  }
  std::string end = "clean end";
  if (scan->garbage_bytes > 0) {
    end = fmt::format("torn tail of {} bytes at offset {} (cut off on the next open)",
                      scan->garbage_bytes, scan->valid_end);
  } else if (scan->valid_end < data->size()) {
    end = fmt::format("clean end, {} bytes preallocated", data->size() - scan->valid_end);
  }
  fmt::print("{}  {} bytes, {} records, {}; header: {}\n", path, data->size(), records, end,
             header_text);
  return kExitOk;
}

int Run(const std::string& dir, bool show_records) {
  io::Env* env = io::Env::Default();
  auto names = env->ListDir(dir);
  if (!names.ok()) {
    fmt::print(stderr, "{}\n", names.status().ToString());
    return kExitUsage;
  }
  std::sort(names->begin(), names->end());
  std::vector<std::string> segments, snapshots, others;
  for (const std::string& n : *names) {
    if (ParseSegmentFileName(n)) {
      segments.push_back(n);
    } else if (ParseSnapshotFileName(n)) {
      snapshots.push_back(n);
    } else if (n != kLockFileName) {
      others.push_back(n);
    }
  }
  int status = kExitOk;
  Totals totals;
  fmt::print("WAL segments ({}):\n", segments.size());
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0 && *ParseSegmentFileName(segments[i]) != *ParseSegmentFileName(segments[i - 1]) + 1) {
      fmt::print("  (gap before {}: older segments are compaction leftovers)\n", segments[i]);
    }
    status = std::max(status, InspectSegment(env, io::JoinPath(dir, segments[i]),
                                             i + 1 == segments.size(), show_records, &totals));
  }
  fmt::print("\nhard state: {}\n", HardStateText(totals.hard_state));
  if (totals.snapshot) {
    fmt::print("snapshot marker: index={} term={}\n", totals.snapshot->index,
               totals.snapshot->term);
  } else {
    fmt::print("snapshot marker: none\n");
  }
  fmt::print("entry records: {} (indexes {}..{} as last written)\n", totals.entries,
             totals.first_entry, totals.last_entry);

  fmt::print("\nsnapshot files ({}):\n", snapshots.size());
  for (const std::string& n : snapshots) {
    const std::string path = io::JoinPath(dir, n);
    auto snap = ReadSnapshotFile(env, path);
    if (!snap.ok()) {
      fmt::print("{}  CORRUPT: {}\n", path, std::string(snap.status().message()));
      status = std::max(status, kExitCorrupt);
      continue;
    }
    const raftpb::ConfState& cs = snap->metadata().conf_state();
    std::string voters;
    for (uint64_t v : cs.voters()) voters += fmt::format("{}{}", voters.empty() ? "" : ",", v);
    const bool current = totals.snapshot && totals.snapshot->index == snap->metadata().index() &&
                         totals.snapshot->term == snap->metadata().term();
    fmt::print("{}  index={} term={} data={}B voters=[{}] checksum ok{}\n", path,
               snap->metadata().index(), snap->metadata().term(), snap->data().size(), voters,
               current ? " (current)" : " (not referenced by the WAL)");
  }
  for (const std::string& n : others) fmt::print("other file: {}\n", n);
  if (status == kExitCorrupt) fmt::print("\nCORRUPTION FOUND\n");
  return status;
}

}  // namespace
}  // namespace raftkv::storage

int main(int argc, char** argv) {
  bool records = false;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--records") {
      records = true;
    } else if (arg == "-h" || arg == "--help") {
      fmt::print("usage: raftkv-wal [--records] DATA_DIR\n");
      return 0;
    } else if (dir.empty() && !arg.starts_with("-")) {
      dir = arg;
    } else {
      fmt::print(stderr, "unknown argument {}\nusage: raftkv-wal [--records] DATA_DIR\n", arg);
      return 1;
    }
  }
  if (dir.empty()) {
    fmt::print(stderr, "usage: raftkv-wal [--records] DATA_DIR\n");
    return 1;
  }
  return raftkv::storage::Run(dir, records);
}
