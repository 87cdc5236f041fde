#include "raftkv/raft/ready_loop.h"

#include <utility>

namespace raftkv::raft {

absl::Status HandleReadies(RawNode& node, ReadyHandler& handler) {
  while (node.HasReady()) {
    Ready ready = node.GetReady();
    if (absl::Status s = node.Error(); !s.ok()) return s;
    handler.ObserveState(ready);
    if (!ready.messages.empty()) handler.Send(std::move(ready.messages));
    if (absl::Status s = handler.Persist(ready); !s.ok()) return s;
    if (!ready.persisted_messages.empty()) handler.Send(std::move(ready.persisted_messages));
    if (absl::Status s = handler.Apply(ready); !s.ok()) return s;
    node.Advance();
    handler.AfterAdvance();
  }
  return absl::OkStatus();
}

}  // namespace raftkv::raft
