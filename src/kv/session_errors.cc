// The errors of client sessions (kv/session.h).
#include "fmt/format.h"
#include "kv/session.h"

namespace raftkv::kv {

absl::Status StaleSequenceError(uint64_t client, uint64_t sequence, uint64_t last) {
  return absl::FailedPreconditionError(
      fmt::format("raftkv: stale sequence: client {} sent sequence {} after sequence {}; not "
                  "applied",
                  client, sequence, last));
}

absl::Status SessionNotFoundError(uint64_t client, uint64_t sequence) {
  return absl::NotFoundError(fmt::format(
      "raftkv: session not found: client {} has no session (it expired after {} minutes of log "
      "time without requests, or was evicted); sequence {} does not start one and was not "
      "applied (a session starts at sequence 1: continue with a new client id)",
      client, kSessionTtlMs / 60000, sequence));
}

absl::Status AnswerTooLargeError(uint64_t client, uint64_t sequence, size_t answer_bytes) {
  return absl::FailedPreconditionError(
      fmt::format("raftkv: answer too large to remember: client {} sequence {} was applied, but "
                  "its answer ({} bytes) exceeds {} bytes",
                  client, sequence, answer_bytes, kMaxRememberedAnswerBytes));
}

absl::Status MissingSequenceError() {
  return absl::InvalidArgumentError(
      "raftkv: a request with a client id needs a sequence of 1 or more");
}

}  // namespace raftkv::kv
