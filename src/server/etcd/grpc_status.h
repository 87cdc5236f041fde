// Conversion of the API layer's absl::Status errors to gRPC statuses, and the deadline of a call.
// Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"

namespace raftkv::server::etcd {

// absl and gRPC share the canonical code numbering, so the code and message pass unchanged; the
// message must stay byte-exact because clients match etcd errors by text.
inline ::grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return ::grpc::Status::OK;
  return ::grpc::Status(static_cast<::grpc::StatusCode>(status.code()),
                        std::string(status.message()));
}

// The deadline for serving `context`'s call: `timeout` from now, or the client's own deadline
// when that is sooner.
inline absl::Time CallDeadline(const ::grpc::ServerContextBase* context,
                               absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  const auto client_deadline = context->deadline();
  // gRPC reports "no deadline" as the largest time point, which absl cannot represent.
  if (client_deadline < std::chrono::system_clock::now() + std::chrono::hours(24 * 365)) {
    deadline = std::min(deadline, absl::FromChrono(client_deadline));
  }
  return deadline;
}

}  // namespace raftkv::server::etcd
