// The store's client sessions (kv/session.h): deciding whether a request with a client id is
// applied, replayed or refused, remembering answers, and keeping the sessions within their bounds.
#include <string>

#include "kv/invariant.h"
#include "kv/store.h"

namespace raftkv::kv {

absl::StatusOr<kvpb::Response> Store::ApplyInSession(const kvpb::Request& request) {
  const uint64_t client = request.client_id();
  const uint64_t sequence = request.sequence();
  if (sequence == 0) return MissingSequenceError();
  // Expiry first: a session idle past the TTL is gone for this request too.
  AdvanceLogClock(request.time_ms());
  if (const SessionTable::Entry* session = sessions_.Find(client); session != nullptr) {
    if (sequence < session->sequence) {
      return StaleSequenceError(client, sequence, session->sequence);
    }
    if (sequence == session->sequence) return Replay(client, request.id());
  } else if (sequence != 1) {
    // Either the client skipped its first sequence or its session was dropped; in the second
    // case this may be a retry of a write that was applied, and applying it could apply it
    // twice.
    return SessionNotFoundError(client, sequence);
  } else {
    // Room for one more, taken from the least recently used.
    while (sessions_.size() >= kMaxSessions) DropSession(*sessions_.LeastRecentlyUsed());
  }
  absl::StatusOr<kvpb::Response> answer = ApplyRequest(request);
  Remember(client, sequence, answer);
  return answer;
}

void Store::AdvanceLogClock(int64_t time_ms) {
  // The maximum, so that a proposer whose clock is behind never moves the log clock back.
  if (time_ms > meta_.log_clock_ms) meta_.log_clock_ms = time_ms;
  while (std::optional<uint64_t> oldest = sessions_.LeastRecentlyUsed()) {
    // A difference, not a sum: 0 <= last use <= log clock, whatever a proposer's clock said.
    if (meta_.log_clock_ms - sessions_.Find(*oldest)->last_used_ms <= kSessionTtlMs) break;
    DropSession(*oldest);
  }
}

absl::StatusOr<kvpb::Response> Store::Replay(uint64_t client, uint64_t request_id) {
  const std::optional<std::string> stored = engine_->FindSession(client);
  if (!stored)
    FatalEngineError("a session in the store's index is missing", std::to_string(client));
  std::optional<SessionRecord> record = DecodeSessionRecord(*stored);
  if (!record) FatalEngineError("corrupt session record", std::to_string(client));
  std::optional<absl::StatusOr<kvpb::Response>> answer = DecodeSessionAnswer(record->answer);
  RAFTKV_KV_INVARIANT(answer.has_value());  // DecodeSessionRecord checked it
  // A retry is a use: the session lives another TTL from now.
  record->last_used_ms = meta_.log_clock_ms;
  WriteSession(client, *record);
  if (answer->ok()) (*answer)->set_id(request_id);
  return *std::move(answer);
}

void Store::Remember(uint64_t client, uint64_t sequence,
                     const absl::StatusOr<kvpb::Response>& answer) {
  WriteSession(client, SessionRecord{.sequence = sequence,
                                     .last_used_ms = meta_.log_clock_ms,
                                     .answer = EncodeSessionAnswer(answer, client, sequence)});
  // One session is far below the byte bound (its answer is bounded), so this stops before
  // reaching the session just written, which is also the most recently used.
  while (sessions_.bytes() > kMaxSessionBytes) {
    const uint64_t oldest = *sessions_.LeastRecentlyUsed();
    RAFTKV_KV_INVARIANT(oldest != client);
    DropSession(oldest);
  }
}

void Store::WriteSession(uint64_t client, const SessionRecord& record) {
  const std::string encoded = EncodeSessionRecord(record);
  if (const SessionTable::Entry* old = sessions_.Find(client); old != nullptr) {
    meta_.size_bytes -= old->bytes;
  }
  const int64_t bytes = SessionBytes(encoded.size());
  meta_.size_bytes += bytes;
  sessions_.Set(client,
                {.sequence = record.sequence, .last_used_ms = record.last_used_ms, .bytes = bytes});
  engine_->PutSession(client, encoded);
}

void Store::DropSession(uint64_t client) {
  const SessionTable::Entry* entry = sessions_.Find(client);
  RAFTKV_KV_INVARIANT(entry != nullptr);
  meta_.size_bytes -= entry->bytes;
  sessions_.Erase(client);
  engine_->DeleteSession(client);
}

void Store::LoadSessions() {
  sessions_.Clear();
  engine_->ForEachSession([&](uint64_t client, std::string_view encoded) {
    std::optional<SessionRecord> record = DecodeSessionRecord(encoded);
    if (!record) FatalEngineError("corrupt session record", std::to_string(client));
    sessions_.Set(client, {.sequence = record->sequence,
                           .last_used_ms = record->last_used_ms,
                           .bytes = SessionBytes(encoded.size())});
  });
}

}  // namespace raftkv::kv
