// Client sessions: exactly-once writes (Raft thesis §6.3).
//
// A client that names itself sends a client id and a sequence number with each write (the KV
// service takes them from gRPC metadata, see docs/api.md). The store remembers, per client id,
// the last sequence it applied and the answer it gave, success or etcd error, so that a write
// retried after a timeout is answered again instead of applied twice:
//
//   - the remembered sequence again: the remembered answer, and nothing changes but the applied
//     index and the session's last use (both the original and a retry may be in the log: the
//     first to apply is applied, every later one is answered like it);
//   - a lower sequence: StaleSequenceError, not applied (the client has moved on; this is an
//     old copy still travelling);
//   - a higher one: applied, and its answer replaces the remembered one;
//   - a client without a session: sequence 1 starts one; any other sequence is refused with
//     SessionNotFoundError, because the session it belonged to expired or was evicted and the
//     store can no longer tell whether that sequence was already applied.
//
// Time. The store has no clock: the member that proposes a write with a session stamps its own
// time in the request, and the store keeps a log clock, the largest stamp applied so far (so it
// never goes back, and every member computes the same one). A session whose last request is more
// than kSessionTtlMs older than the log clock is dropped when the next request with a session is
// applied. Requests without a session do not move the log clock.
//
// Bounds: nothing a client sends makes the store keep more than kMaxSessions sessions and
// kMaxSessionBytes of them; past either, the least recently used sessions (smallest last use,
// then smallest client id: deterministic) are evicted. An answer larger than
// kMaxRememberedAnswerBytes is remembered as AnswerTooLargeError, which a retry then receives.
// Sessions count in Store::size_bytes() (SessionBytes each).
//
// Sessions are replicated state: they are in the engine (one opaque record per client, written
// in the entry's batch) and in the store's snapshot. HashKV does not cover them: it compares
// members at equal revisions, and a session's last use moves without the revision moving.
//
// Thread-safety: constants and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "raftkv/kvpb/kv.pb.h"

namespace raftkv::kv {

// A session idle for longer than this, in log time, is dropped: one hour.
inline constexpr int64_t kSessionTtlMs = int64_t{60} * 60 * 1000;
// At most this many sessions are kept ...
inline constexpr size_t kMaxSessions = 100'000;
// ... charged at most this many bytes together (SessionBytes) ...
inline constexpr int64_t kMaxSessionBytes = int64_t{64} << 20;
// ... each remembering an answer of at most this many bytes (encoded).
inline constexpr size_t kMaxRememberedAnswerBytes = 64 * 1024;

// What one session is charged in Store::size_bytes() and against kMaxSessionBytes: its encoded
// record plus a fixed overhead for the indexes that find it.
inline int64_t SessionBytes(size_t record_size) { return static_cast<int64_t>(record_size) + 64; }

// ---- Errors (raftkv's own: etcd has no sessions). Messages start with a fixed phrase that
// clients may match on. ----

// FAILED_PRECONDITION "raftkv: stale sequence: client C sent sequence S after sequence L; not
// applied".
absl::Status StaleSequenceError(uint64_t client, uint64_t sequence, uint64_t last);
// NOT_FOUND "raftkv: session not found: client C has no session (...); sequence S does not start
// one and was not applied (...)".
absl::Status SessionNotFoundError(uint64_t client, uint64_t sequence);
// FAILED_PRECONDITION "raftkv: answer too large to remember: client C sequence S was applied,
// but its answer (N bytes) exceeds 65536 bytes".
absl::Status AnswerTooLargeError(uint64_t client, uint64_t sequence, size_t answer_bytes);
// INVALID_ARGUMENT "raftkv: a request with a client id needs a sequence of 1 or more".
absl::Status MissingSequenceError();

// ---- The record of one session, as engines and snapshots keep it. ----

struct SessionRecord {
  // The last sequence applied for the client.
  uint64_t sequence = 0;
  // The log clock when the client's last request was applied.
  int64_t last_used_ms = 0;
  // The answer to `sequence`, encoded (EncodeSessionAnswer).
  std::string answer;

  friend bool operator==(const SessionRecord&, const SessionRecord&) = default;
};

std::string EncodeSessionRecord(const SessionRecord& record);
// nullopt when `encoded` is not a well-formed record.
std::optional<SessionRecord> DecodeSessionRecord(std::string_view encoded);

// The answer to remember for sequence `sequence` of `client`: the response without its request
// id, or the error; an encoded response over kMaxRememberedAnswerBytes becomes
// AnswerTooLargeError.
std::string EncodeSessionAnswer(const absl::StatusOr<kvpb::Response>& answer, uint64_t client,
                                uint64_t sequence);
// nullopt when `encoded` is malformed.
std::optional<absl::StatusOr<kvpb::Response>> DecodeSessionAnswer(std::string_view encoded);

}  // namespace raftkv::kv
