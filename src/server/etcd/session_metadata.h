// The gRPC metadata of exactly-once writes (docs/api.md, "Exactly-once writes"): a client that
// wants its Put, DeleteRange and Txn applied at most once, however often it retries them, names
// itself with `raftkv-client-id` and numbers its writes with `raftkv-sequence` (both decimal,
// 1 to 2^64-1). The KV service copies them into the replicated request, with the proposing
// member's time, and the store's client sessions do the rest (kv/session.h). A request without
// either key is served as etcd serves it, so plain etcd clients see no difference.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/support/string_ref.h"
#include "raftkv/kvpb/kv.pb.h"

namespace raftkv::server::etcd {

inline constexpr char kClientIdMetadata[] = "raftkv-client-id";
inline constexpr char kSequenceMetadata[] = "raftkv-sequence";

struct SessionTag {
  uint64_t client_id = 0;
  uint64_t sequence = 0;
};

// The session tag of a call from its client metadata: nullopt when neither key is present;
// INVALID_ARGUMENT (a message naming the key and what is wrong) when only one is, when one is
// repeated, or when a value is not a decimal number from 1 to 18446744073709551615.
absl::StatusOr<std::optional<SessionTag>> ParseSessionMetadata(
    const std::multimap<::grpc::string_ref, ::grpc::string_ref>& metadata);

// Puts `tag` and the proposing member's time `now` (unix ms: the store's log clock) in `request`.
void TagRequest(const SessionTag& tag, absl::Time now, kvpb::Request* request);

}  // namespace raftkv::server::etcd
