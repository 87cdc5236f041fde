// The small key-value state machine that simulated nodes replicate: get, put and
// compare-and-set, with a per-client session table so that a retried command takes effect at
// most once (the client sessions of Raft paper §8).
//
// Commands are encoded as short text so that a trace or a failing log reads easily. Everything
// here is deterministic: the same commands in the same order give the same state and the same
// Digest(). Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace raftkv::sim {

enum class CommandKind : uint8_t { kGet, kPut, kCas };

struct Command {
  CommandKind kind = CommandKind::kGet;
  uint64_t client_id = 0;
  // Per-client sequence number; a client reuses it when it retries the same operation. 0 means
  // "no session": the command is applied every time it appears.
  uint64_t seq = 0;
  std::string key;
  std::string value;                    // kPut, kCas: the value written
  std::optional<std::string> expected;  // kCas: nullopt means "key absent"
};

struct CommandResult {
  std::optional<std::string> value;  // kGet: the value read
  bool swapped = false;              // kCas: whether the comparison held
};

std::string EncodeCommand(const Command& command);
// InvalidArgument on anything EncodeCommand would not produce.
absl::StatusOr<Command> DecodeCommand(std::string_view data);

class KvStateMachine {
 public:
  // Applies a command. A command whose (client_id, seq) was already applied returns the
  // recorded result without applying it again.
  CommandResult Apply(const Command& command);

  // A read served outside the log (after ReadIndex): no session bookkeeping.
  std::optional<std::string> Read(const std::string& key) const;

  std::string Serialize() const;
  absl::Status Restore(std::string_view data);

  // Order-sensitive fingerprint of the whole state, for comparing replicas.
  uint64_t Digest() const;

 private:
  struct Session {
    uint64_t seq = 0;
    CommandResult result;
  };
  std::map<std::string, std::string> data_;
  std::map<uint64_t, Session> sessions_;
};

}  // namespace raftkv::sim
