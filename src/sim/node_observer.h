// What a simulated node's observing decorators share: who the node is, where they report, and
// the Ready the driver is handling (the log store sees it first, when it is persisted; the
// applier then needs its committed entries to tell the checker which entry it applied).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "raftkv/raftpb/raft.pb.h"
#include "sim/event_queue.h"
#include "sim/safety_checker.h"
#include "sim/trace.h"

namespace raftkv::sim {

class LeaseChecker;

struct NodeObserver {
  uint64_t node = 0;
  SafetyChecker* checker = nullptr;
  // Runs with leases: sees every entry persisted and every request applied (may be null).
  LeaseChecker* leases = nullptr;
  Trace* trace = nullptr;
  std::function<TimeUs()> now_us;

  // The Ready being handled, as persisted: its committed entries and its snapshot, if any.
  std::vector<raftpb::Entry> committed_entries;
  std::optional<raftpb::SnapshotMetadata> snapshot;

  // The committed entry at `index` of the Ready being handled, or null.
  const raftpb::Entry* CommittedEntry(uint64_t index) const {
    if (committed_entries.empty()) return nullptr;
    const uint64_t first = committed_entries.front().index();
    if (index < first || index - first >= committed_entries.size()) return nullptr;
    return &committed_entries[index - first];
  }
};

}  // namespace raftkv::sim
