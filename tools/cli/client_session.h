// The client half of raftkv's exactly-once writes (docs/api.md, "Exactly-once writes"): a client
// names itself with a random 64-bit id, numbers its writes 1, 2, 3, ... and sends both as gRPC
// metadata with every Put, DeleteRange and Txn. A write whose outcome is unknown (UNAVAILABLE:
// the member went away or timed the proposal out; DEADLINE_EXCEEDED: the client's own deadline)
// is sent again with the SAME sequence, a bounded number of times with growing pauses: the
// server's session answers a copy that was already applied with the first answer instead of
// applying it again. The raftkv tool and raftkv-bench use this; plain etcd servers ignore the
// metadata.
//
// A session belongs to one logical client with at most one write in flight: a second write
// begun before the first is answered would make the first one's retries stale.
//
// Thread-safety: ClientSession is thread-compatible; the rest are pure functions.
#pragma once

#include <cstdint>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"

namespace raftkv::cli {

inline constexpr char kClientIdMetadata[] = "raftkv-client-id";
inline constexpr char kSequenceMetadata[] = "raftkv-sequence";

// What identifies one write: the same for every attempt of it.
struct SessionTag {
  uint64_t client_id = 0;
  uint64_t sequence = 0;
};

// Adds `tag` to a call's metadata (both values in decimal).
void AttachSessionTag(const SessionTag& tag, grpc::ClientContext* context);

class ClientSession {
 public:
  // A random non-zero id from the system's entropy source, not a seed: two processes started
  // with the same flags must not share a session.
  ClientSession();
  explicit ClientSession(uint64_t client_id) : client_id_(client_id) {}

  uint64_t client_id() const { return client_id_; }
  // The tag of the next new write: sequences 1, 2, 3, ...
  SessionTag NextWrite() { return {.client_id = client_id_, .sequence = ++sequence_}; }
  // A new random id from sequence 1 again: after the server said the session was not found
  // (expired or evicted), the old id cannot go on.
  void Renew();

 private:
  uint64_t client_id_;
  uint64_t sequence_ = 0;
};

// A random non-zero 64-bit id.
uint64_t RandomClientId();

struct RetryPolicy {
  // Attempts in all, the first included.
  int max_attempts = 5;
  absl::Duration first_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(2);
};

// UNAVAILABLE and DEADLINE_EXCEEDED: the write may or may not have been applied, and sending it
// again with the same tag is safe. Anything else is the write's answer.
bool IsRetryable(absl::StatusCode code);
// The pause before retry `retry` (1 for the first): first_backoff, doubled each time, at most
// max_backoff.
absl::Duration Backoff(const RetryPolicy& policy, int retry);
// True when the server refused the sequence because the client's session is gone ("raftkv:
// session not found"): the write was not applied, and the client must Renew.
bool IsSessionNotFound(const absl::Status& status);

// Calls `attempt(0)`, then `attempt(1)`, ... (each call sends the same write with the same tag)
// until one succeeds or fails with a code that is not retryable, or `policy.max_attempts` were
// made, pausing `sleep(Backoff(...))` in between; returns the last result.
template <typename T>
absl::StatusOr<T> RetryWrite(const RetryPolicy& policy,
                             absl::FunctionRef<absl::StatusOr<T>(int attempt)> attempt,
                             absl::FunctionRef<void(absl::Duration)> sleep = absl::SleepFor) {
  absl::StatusOr<T> result = attempt(0);
  for (int n = 1; n < policy.max_attempts && !result.ok() && IsRetryable(result.status().code());
       ++n) {
    sleep(Backoff(policy, n));
    result = attempt(n);
  }
  return result;
}

}  // namespace raftkv::cli
