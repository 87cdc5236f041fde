// The record of a simulated run: a rolling hash of every event, and the most recent events
// kept verbatim so that a violation can be explained.
//
// The hash is what makes replay checkable: the same seed must give the same hash, bit for bit.
// Events are stored as small structs and rendered to text only when a report is printed, so
// tracing costs little on the hot path. Not thread-safe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <deque>
#include <string>
#include <vector>

#include "sim/event_queue.h"

namespace raftkv::sim {

enum class TraceKind : uint8_t {
  kSend,        // a: from, b: to, c: msg_type, d: term, e: index, f: entry count
  kDeliver,     // same fields as kSend
  kDrop,        // same fields as kSend
  kDuplicate,   // same fields as kSend
  kRole,        // a: node, b: term, c: role (raft::StateRole), d: leader
  kPersist,     // a: node, b: term, c: commit, d: first entry index, e: last entry index
  kSnapshot,    // a: node, b: snapshot index, c: snapshot term
  kApply,       // a: node, b: index, c: term
  kCrash,       // a: node
  kRestart,     // a: node
  kClientCall,  // a: client, b: node, c: op id
  kClientDone,  // a: client, b: node, c: op id, d: outcome
  kFault,       // text: what the nemesis did
};

struct TraceEvent {
  TimeUs at_us = 0;
  TraceKind kind = TraceKind::kFault;
  uint64_t a = 0, b = 0, c = 0, d = 0, e = 0, f = 0;
  std::string text;
};

// One line, e.g. "  1.234567s send 1->2 MsgApp term=3 index=7 entries=2".
std::string DescribeTraceEvent(const TraceEvent& event);

class Trace {
 public:
  explicit Trace(size_t keep_recent = 400) : keep_recent_(keep_recent) {}

  void Add(TraceEvent event);

  // Also prints every event as it is added (for `raftkv-sim --trace`). Null: silent.
  void set_sink(std::FILE* sink) { sink_ = sink; }

  uint64_t hash() const { return hash_; }
  uint64_t count() const { return count_; }
  const std::deque<TraceEvent>& recent() const { return recent_; }

  // The last `max_lines` recent events that involve any of `nodes` (all events when `nodes`
  // is empty), oldest first, one per line.
  std::string Render(const std::vector<uint64_t>& nodes, size_t max_lines) const;

 private:
  void Mix(uint64_t value);

  size_t keep_recent_;
  std::FILE* sink_ = nullptr;
  std::deque<TraceEvent> recent_;
  uint64_t hash_ = 0xcbf29ce484222325ULL;  // FNV-1a offset basis
  uint64_t count_ = 0;
};

}  // namespace raftkv::sim
