// Builders and predicates for raft messages in tests: forged peer messages and matchers over a
// cluster's in-flight queue. Pure functions; thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "raftkv/raftpb/raft.pb.h"

namespace raftkv::raft::testing {

inline raftpb::Entry MakeEntry(uint64_t index, uint64_t term, std::string data = "") {
  raftpb::Entry e;
  e.set_index(index);
  e.set_term(term);
  e.set_data(std::move(data));
  return e;
}

inline raftpb::Message MakeMessage(raftpb::MessageType type, uint64_t from, uint64_t to,
                                   uint64_t term) {
  raftpb::Message m;
  m.set_msg_type(type);
  m.set_from(from);
  m.set_to(to);
  m.set_term(term);
  return m;
}

// AppendEntries (§5.3): entries follow (prev_index, prev_term).
inline raftpb::Message MakeAppend(uint64_t from, uint64_t to, uint64_t term, uint64_t prev_index,
                                  uint64_t prev_term, const std::vector<raftpb::Entry>& entries,
                                  uint64_t commit = 0) {
  raftpb::Message m = MakeMessage(raftpb::MSG_APPEND, from, to, term);
  m.set_index(prev_index);
  m.set_log_term(prev_term);
  m.set_commit(commit);
  for (const auto& e : entries) *m.add_entries() = e;
  return m;
}

inline raftpb::Message MakeHeartbeat(uint64_t from, uint64_t to, uint64_t term,
                                     uint64_t commit = 0) {
  raftpb::Message m = MakeMessage(raftpb::MSG_HEARTBEAT, from, to, term);
  m.set_commit(commit);
  return m;
}

// RequestVote (§5.2) from a candidate whose last entry is (last_index, last_term).
inline raftpb::Message MakeVoteRequest(uint64_t from, uint64_t to, uint64_t term,
                                       uint64_t last_index, uint64_t last_term) {
  raftpb::Message m = MakeMessage(raftpb::MSG_REQUEST_VOTE, from, to, term);
  m.set_index(last_index);
  m.set_log_term(last_term);
  return m;
}

using MessagePredicate = std::function<bool(const raftpb::Message&)>;

inline MessagePredicate OfType(raftpb::MessageType type) {
  return [type](const raftpb::Message& m) { return m.msg_type() == type; };
}
inline MessagePredicate OfTypeTo(raftpb::MessageType type, uint64_t to) {
  return [type, to](const raftpb::Message& m) { return m.msg_type() == type && m.to() == to; };
}
inline MessagePredicate OfTypeFrom(raftpb::MessageType type, uint64_t from) {
  return
      [type, from](const raftpb::Message& m) { return m.msg_type() == type && m.from() == from; };
}
inline MessagePredicate Between(uint64_t from, uint64_t to) {
  return [from, to](const raftpb::Message& m) { return m.from() == from && m.to() == to; };
}

// Keeps the messages of `msgs` that match `pred`.
inline std::vector<raftpb::Message> Filter(const std::vector<raftpb::Message>& msgs,
                                           const MessagePredicate& pred) {
  std::vector<raftpb::Message> out;
  for (const auto& m : msgs) {
    if (pred(m)) out.push_back(m);
  }
  return out;
}

}  // namespace raftkv::raft::testing
