// Watchers in the simulator: one per client, each on a key prefix, advanced from some member's
// store history (kv::Store::Events, the same reads the Watch service makes) in small pages, as
// a watch stream that moves from member to member would be. Checks Watch Completeness:
//
//   - a watcher sees each (revision, key) once, in revision order (then key order);
//   - the pages it read from a member are exactly that member's history of the range read in
//     one piece (paging loses nothing and repeats nothing);
//   - at the end, everything it saw since its last restart is exactly the final history of its
//     prefix over the same revisions (no gaps, nothing extra, same values).
//
// A watcher that asks for a compacted revision restarts from the compaction revision, as
// etcd's clients do after ErrCompacted (the skipped revisions are recorded, not compared).
// Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "etcd/mvcc/mvccpb/kv.pb.h"
#include "kv/store.h"
#include "sim/safety_checker.h"

namespace raftkv::sim {

inline constexpr char kWatchCompleteness[] = "Watch Completeness";

class WatchChecker {
 public:
  // One watcher per prefix.
  WatchChecker(SafetyChecker* checker, std::vector<std::string> prefixes, size_t page_limit);

  // Watcher `watcher` reads what `node`'s store has beyond what it already saw.
  void Advance(size_t watcher, uint64_t node, const kv::Store& store);
  // Every watcher against the final history in `store` (after it advanced to it).
  void CheckFinal(uint64_t node, const kv::Store& store);

  size_t watchers() const { return watchers_.size(); }
  uint64_t events_seen() const;
  uint64_t compaction_restarts() const;

 private:
  struct Watcher {
    std::string prefix;
    std::string range_end;
    int64_t through = 0;  // every event up to this revision was delivered
    // Events delivered since the last restart; only the last one is needed for ordering.
    std::vector<mvccpb::Event> events;
    int64_t restarted_at = 0;  // the revision the last compaction restart resumed after
    uint64_t delivered = 0;
    uint64_t restarts = 0;
  };

  void Deliver(Watcher& w, uint64_t node, const mvccpb::Event& event);

  SafetyChecker* const checker_;
  const size_t page_limit_;
  std::vector<Watcher> watchers_;
};

}  // namespace raftkv::sim
