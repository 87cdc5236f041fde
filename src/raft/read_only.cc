#include "raft/read_only.h"

namespace raftkv::raft {

void ReadOnly::AddRequest(uint64_t index, const raftpb::Message& m) {
  const std::string& ctx = m.entries(0).data();
  if (pending_.count(ctx) != 0) return;
  pending_.emplace(ctx, ReadIndexStatus{m, index, {}});
  queue_.push_back(ctx);
}

const quorum::VoteMap* ReadOnly::RecvAck(uint64_t id, const std::string& context) {
  auto it = pending_.find(context);
  if (it == pending_.end()) return nullptr;
  it->second.acks[id] = true;
  return &it->second.acks;
}

std::vector<ReadIndexStatus> ReadOnly::Advance(const std::string& context) {
  size_t n = 0;
  bool found = false;
  for (const std::string& ctx : queue_) {
    ++n;
    if (ctx == context) {
      found = true;
      break;
    }
  }
  std::vector<ReadIndexStatus> out;
  if (!found) return out;
  for (size_t i = 0; i < n; ++i) {
    auto it = pending_.find(queue_.front());
    out.push_back(std::move(it->second));
    pending_.erase(it);
    queue_.pop_front();
  }
  return out;
}

std::string ReadOnly::LastPendingRequestCtx() const {
  return queue_.empty() ? std::string() : queue_.back();
}

}  // namespace raftkv::raft
