// Small helpers shared by the consensus core: entry sizes, size-limited slicing, message
// classification and printing. Stateless and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "raftkv/raftpb/raft.pb.h"

namespace raftkv::raft {

// The size that counts against byte limits: the payload, as etcd does, so limits are
// predictable for the application.
inline uint64_t EntryPayloadSize(const raftpb::Entry& e) { return e.data().size(); }
uint64_t EntriesPayloadSize(const std::vector<raftpb::Entry>& entries);

// Bytes of an entry when sized for messages (its encoded size).
inline uint64_t EntrySizeBytes(const raftpb::Entry& e) { return e.ByteSizeLong(); }

// Keeps a prefix of entries whose encoded size stays within max_size_bytes, but always at
// least one entry.
void LimitSize(std::vector<raftpb::Entry>* entries, uint64_t max_size_bytes);

// Message types generated only inside the node; they must never arrive from the network.
bool IsLocalMessage(raftpb::MessageType type);
// Message types that answer a request of this node.
bool IsResponseMessage(raftpb::MessageType type);
// The response type matching a vote request type.
raftpb::MessageType VoteResponseType(raftpb::MessageType type);

const char* MessageTypeName(raftpb::MessageType type);
std::string DescribeMessage(const raftpb::Message& m);
std::string DescribeEntry(const raftpb::Entry& e);

}  // namespace raftkv::raft
