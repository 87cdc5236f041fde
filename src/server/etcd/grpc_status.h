// Conversion of the API layer's absl::Status errors to gRPC statuses.
// Thread-safety: pure functions.
#pragma once

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace raftkv::server::etcd {

// absl and gRPC share the canonical code numbering, so the code and message pass unchanged; the
// message must stay byte-exact because clients match etcd errors by text.
inline ::grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return ::grpc::Status::OK;
  return ::grpc::Status(static_cast<::grpc::StatusCode>(status.code()),
                        std::string(status.message()));
}

}  // namespace raftkv::server::etcd
