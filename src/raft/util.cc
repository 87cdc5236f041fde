#include "raft/util.h"

#include "absl/strings/substitute.h"

namespace raftkv::raft {

uint64_t EntriesPayloadSize(const std::vector<raftpb::Entry>& entries) {
  uint64_t total = 0;
  for (const auto& e : entries) total += EntryPayloadSize(e);
  return total;
}

void LimitSize(std::vector<raftpb::Entry>* entries, uint64_t max_size_bytes) {
  if (entries->empty()) return;
  uint64_t size = EntrySizeBytes((*entries)[0]);
  size_t limit = 1;
  for (; limit < entries->size(); ++limit) {
    size += EntrySizeBytes((*entries)[limit]);
    if (size > max_size_bytes) break;
  }
  entries->resize(limit);
}

bool IsLocalMessage(raftpb::MessageType type) {
  return type == raftpb::MSG_HUP || type == raftpb::MSG_BEAT || type == raftpb::MSG_UNREACHABLE ||
         type == raftpb::MSG_SNAP_STATUS || type == raftpb::MSG_CHECK_QUORUM;
}

bool IsResponseMessage(raftpb::MessageType type) {
  return type == raftpb::MSG_APPEND_RESPONSE || type == raftpb::MSG_REQUEST_VOTE_RESPONSE ||
         type == raftpb::MSG_HEARTBEAT_RESPONSE || type == raftpb::MSG_UNREACHABLE ||
         type == raftpb::MSG_REQUEST_PRE_VOTE_RESPONSE;
}

raftpb::MessageType VoteResponseType(raftpb::MessageType type) {
  return type == raftpb::MSG_REQUEST_PRE_VOTE ? raftpb::MSG_REQUEST_PRE_VOTE_RESPONSE
                                              : raftpb::MSG_REQUEST_VOTE_RESPONSE;
}

const char* MessageTypeName(raftpb::MessageType type) {
  switch (type) {
    case raftpb::MSG_HUP:
      return "MsgHup";
    case raftpb::MSG_BEAT:
      return "MsgBeat";
    case raftpb::MSG_PROPOSE:
      return "MsgProp";
    case raftpb::MSG_APPEND:
      return "MsgApp";
    case raftpb::MSG_APPEND_RESPONSE:
      return "MsgAppResp";
    case raftpb::MSG_REQUEST_VOTE:
      return "MsgVote";
    case raftpb::MSG_REQUEST_VOTE_RESPONSE:
      return "MsgVoteResp";
    case raftpb::MSG_SNAPSHOT:
      return "MsgSnap";
    case raftpb::MSG_HEARTBEAT:
      return "MsgHeartbeat";
    case raftpb::MSG_HEARTBEAT_RESPONSE:
      return "MsgHeartbeatResp";
    case raftpb::MSG_UNREACHABLE:
      return "MsgUnreachable";
    case raftpb::MSG_SNAP_STATUS:
      return "MsgSnapStatus";
    case raftpb::MSG_CHECK_QUORUM:
      return "MsgCheckQuorum";
    case raftpb::MSG_TRANSFER_LEADER:
      return "MsgTransferLeader";
    case raftpb::MSG_TIMEOUT_NOW:
      return "MsgTimeoutNow";
    case raftpb::MSG_READ_INDEX:
      return "MsgReadIndex";
    case raftpb::MSG_READ_INDEX_RESPONSE:
      return "MsgReadIndexResp";
    case raftpb::MSG_REQUEST_PRE_VOTE:
      return "MsgPreVote";
    case raftpb::MSG_REQUEST_PRE_VOTE_RESPONSE:
      return "MsgPreVoteResp";
    default:
      return "MsgUnknown";
  }
}

std::string DescribeEntry(const raftpb::Entry& e) {
  const char* kind = e.entry_type() == raftpb::ENTRY_NORMAL ? "" : " conf";
  return absl::Substitute("$0/$1$2", e.term(), e.index(), kind);
}

std::string DescribeMessage(const raftpb::Message& m) {
  std::string out =
      absl::Substitute("$0->$1 $2 Term:$3 Log:$4/$5", m.from(), m.to(),
                       MessageTypeName(m.msg_type()), m.term(), m.log_term(), m.index());
  if (m.reject()) out += absl::Substitute(" Rejected (Hint: $0)", m.reject_hint());
  if (m.commit() != 0) out += absl::Substitute(" Commit:$0", m.commit());
  if (m.entries_size() > 0) {
    out += " Entries:[";
    for (int i = 0; i < m.entries_size(); ++i) {
      if (i > 0) out += ' ';
      out += DescribeEntry(m.entries(i));
    }
    out += ']';
  }
  if (m.has_snapshot() && m.snapshot().metadata().index() != 0) {
    out += absl::Substitute(" Snapshot: Index:$0 Term:$1", m.snapshot().metadata().index(),
                            m.snapshot().metadata().term());
  }
  return out;
}

}  // namespace raftkv::raft
