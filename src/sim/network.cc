#include "sim/network.h"

namespace raftkv::sim {

TraceEvent MessageTraceEvent(TimeUs at_us, TraceKind kind, const raftpb::Message& m) {
  return TraceEvent{.at_us = at_us,
                    .kind = kind,
                    .a = m.from(),
                    .b = m.to(),
                    .c = static_cast<uint64_t>(m.msg_type()),
                    .d = m.term(),
                    .e = m.index(),
                    .f = static_cast<uint64_t>(m.entries_size())};
}

TimeUs Network::DrawLatency() {
  if (faults_.slow_probability > 0 && rand_->Bernoulli(faults_.slow_probability)) {
    return rand_->Range(faults_.min_latency_us, faults_.slow_max_us + 1);
  }
  return rand_->Range(faults_.min_latency_us, faults_.max_latency_us + 1);
}

void Network::Send(const raftpb::Message& m) {
  ++stats_.sent;
  stats_.bytes_sent += m.ByteSizeLong();
  ++stats_.sent_by_type[m.msg_type()];
  if (m.msg_type() == raftpb::MSG_APPEND) {
    for (const auto& entry : m.entries()) ++stats_.entry_sends[{m.to(), entry.index()}];
  }
  trace_->Add(MessageTraceEvent(queue_->now_us(), TraceKind::kSend, m));
  const bool link_down = !Connected(m.from(), m.to());
  if (link_down || (faults_.drop_probability > 0 && rand_->Bernoulli(faults_.drop_probability))) {
    ++stats_.dropped;
    trace_->Add(MessageTraceEvent(queue_->now_us(), TraceKind::kDrop, m));
    lost_(m, link_down);
    return;
  }
  Schedule(m, TraceKind::kDeliver);
  if (faults_.duplicate_probability > 0 && rand_->Bernoulli(faults_.duplicate_probability)) {
    ++stats_.duplicated;
    Schedule(m, TraceKind::kDuplicate);
  }
}

void Network::Schedule(const raftpb::Message& m, TraceKind kind) {
  queue_->After(DrawLatency(), [this, m, kind] {
    if (!Connected(m.from(), m.to())) {
      ++stats_.dropped;
      trace_->Add(MessageTraceEvent(queue_->now_us(), TraceKind::kDrop, m));
      if (kind != TraceKind::kDuplicate) lost_(m, /*link_down=*/true);
      return;
    }
    ++stats_.delivered;
    trace_->Add(MessageTraceEvent(queue_->now_us(), kind, m));
    deliver_(m);
  });
}

void Network::Isolate(uint64_t id, const std::vector<uint64_t>& others) {
  for (uint64_t other : others) {
    if (other != id) CutBoth(id, other);
  }
}

void Network::Partition(const std::vector<std::vector<uint64_t>>& groups) {
  cut_.clear();
  for (size_t g = 0; g < groups.size(); ++g) {
    for (size_t h = 0; h < groups.size(); ++h) {
      if (g == h) continue;
      for (uint64_t a : groups[g]) {
        for (uint64_t b : groups[h]) Cut(a, b);
      }
    }
  }
}

}  // namespace raftkv::sim
