#include "client_session.h"

#include <random>
#include <string>

#include "absl/strings/match.h"

namespace raftkv::cli {

void AttachSessionTag(const SessionTag& tag, grpc::ClientContext* context) {
  context->AddMetadata(kClientIdMetadata, std::to_string(tag.client_id));
  context->AddMetadata(kSequenceMetadata, std::to_string(tag.sequence));
}

uint64_t RandomClientId() {
  std::random_device entropy;
  uint64_t id = 0;
  while (id == 0) id = (static_cast<uint64_t>(entropy()) << 32) ^ entropy();
  return id;
}

ClientSession::ClientSession() : client_id_(RandomClientId()) {}

void ClientSession::Renew() {
  client_id_ = RandomClientId();
  sequence_ = 0;
}

bool IsRetryable(absl::StatusCode code) {
  return code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded;
}

absl::Duration Backoff(const RetryPolicy& policy, int retry) {
  absl::Duration pause = policy.first_backoff;
  for (int i = 1; i < retry && pause < policy.max_backoff; ++i) pause *= 2;
  return std::min(pause, policy.max_backoff);
}

bool IsSessionNotFound(const absl::Status& status) {
  return status.code() == absl::StatusCode::kNotFound &&
         absl::StrContains(status.message(), "raftkv: session not found");
}

}  // namespace raftkv::cli
