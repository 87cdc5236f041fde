#include "sim/trace.h"

#include <algorithm>

#include "fmt/format.h"
#include "raftkv/raft/ready.h"
#include "raftkv/raftpb/raft.pb.h"

namespace raftkv::sim {
namespace {

std::string MessageTypeName(uint64_t type) {
  const auto* descriptor = raftpb::MessageType_descriptor();
  const auto* value = descriptor->FindValueByNumber(static_cast<int>(type));
  return value != nullptr ? value->name() : fmt::format("type{}", type);
}

const char* OutcomeName(uint64_t outcome) {
  switch (outcome) {
    case 0:
      return "ok";
    case 1:
      return "failed";
    default:
      return "unknown";
  }
}

bool Involves(const TraceEvent& event, const std::vector<uint64_t>& nodes) {
  if (nodes.empty()) return true;
  auto has = [&](uint64_t id) { return std::find(nodes.begin(), nodes.end(), id) != nodes.end(); };
  switch (event.kind) {
    case TraceKind::kSend:
    case TraceKind::kDeliver:
    case TraceKind::kDrop:
    case TraceKind::kDuplicate:
      return has(event.a) || has(event.b);
    case TraceKind::kClientCall:
    case TraceKind::kClientDone:
      return has(event.b);
    case TraceKind::kFault:
      return true;
    default:
      return has(event.a);
  }
}

}  // namespace

std::string DescribeTraceEvent(const TraceEvent& e) {
  const std::string when = fmt::format("{:4}.{:06}s", e.at_us / 1000000, e.at_us % 1000000);
  switch (e.kind) {
    case TraceKind::kSend:
    case TraceKind::kDeliver:
    case TraceKind::kDrop:
    case TraceKind::kDuplicate: {
      const char* verb = e.kind == TraceKind::kSend      ? "send"
                         : e.kind == TraceKind::kDeliver ? "recv"
                         : e.kind == TraceKind::kDrop    ? "drop"
                                                         : "dup ";
      return fmt::format("{} {} {}->{} {} term={} index={} entries={}", when, verb, e.a, e.b,
                         MessageTypeName(e.c), e.d, e.e, e.f);
    }
    case TraceKind::kRole:
      return fmt::format("{} node {} is {} in term {} (leader {})", when, e.a,
                         raft::StateRoleName(static_cast<raft::StateRole>(e.c)), e.b, e.d);
    case TraceKind::kPersist:
      return fmt::format("{} node {} persists term={} commit={} entries=[{},{}]", when, e.a, e.b,
                         e.c, e.d, e.e);
    case TraceKind::kSnapshot:
      return fmt::format("{} node {} installs snapshot index={} term={}", when, e.a, e.b, e.c);
    case TraceKind::kApply:
      return fmt::format("{} node {} applies index={} term={}", when, e.a, e.b, e.c);
    case TraceKind::kCrash:
      return fmt::format("{} node {} CRASHES", when, e.a);
    case TraceKind::kRestart:
      return fmt::format("{} node {} restarts", when, e.a);
    case TraceKind::kClientCall:
      return fmt::format("{} client {} -> node {}: op {}", when, e.a, e.b, e.c);
    case TraceKind::kClientDone:
      return fmt::format("{} client {} <- node {}: op {} {}", when, e.a, e.b, e.c,
                         OutcomeName(e.d));
    case TraceKind::kFault:
      return fmt::format("{} nemesis: {}", when, e.text);
  }
  return when;
}

void Trace::Mix(uint64_t value) {
  // FNV-1a over the eight bytes of the value.
  for (int i = 0; i < 8; ++i) {
    hash_ ^= (value >> (8 * i)) & 0xff;
    hash_ *= 0x100000001b3ULL;
  }
}

void Trace::Add(TraceEvent event) {
  Mix(event.at_us);
  Mix(static_cast<uint64_t>(event.kind));
  for (uint64_t v : {event.a, event.b, event.c, event.d, event.e, event.f}) Mix(v);
  for (char ch : event.text) Mix(static_cast<unsigned char>(ch));
  ++count_;
  if (sink_ != nullptr) std::fprintf(sink_, "%s\n", DescribeTraceEvent(event).c_str());
  if (keep_recent_ == 0) return;
  if (recent_.size() == keep_recent_) recent_.pop_front();
  recent_.push_back(std::move(event));
}

std::string Trace::Render(const std::vector<uint64_t>& nodes, size_t max_lines) const {
  std::vector<const TraceEvent*> picked;
  for (auto it = recent_.rbegin(); it != recent_.rend() && picked.size() < max_lines; ++it) {
    // Heartbeats are most of the traffic and rarely the story; leave them out.
    const bool heartbeat =
        (it->kind == TraceKind::kSend || it->kind == TraceKind::kDeliver ||
         it->kind == TraceKind::kDrop || it->kind == TraceKind::kDuplicate) &&
        (it->c == raftpb::MSG_HEARTBEAT || it->c == raftpb::MSG_HEARTBEAT_RESPONSE);
    if (!heartbeat && Involves(*it, nodes)) picked.push_back(&*it);
  }
  std::string out;
  for (auto it = picked.rbegin(); it != picked.rend(); ++it) {
    out += DescribeTraceEvent(**it);
    out += '\n';
  }
  return out;
}

}  // namespace raftkv::sim
