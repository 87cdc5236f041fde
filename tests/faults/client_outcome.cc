#include "client_outcome.h"

namespace raftkv::faults {

lincheck::OpStatus OutcomeOfFailedWrite(const grpc::Status& status) {
  const std::string& message = status.error_message();
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
      (message == "etcdserver: no leader" || message == "etcdserver: leader changed")) {
    return lincheck::OpStatus::kFailed;
  }
  if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
      message == "etcdserver: too many requests") {
    return lincheck::OpStatus::kFailed;
  }
  return lincheck::OpStatus::kUnknown;
}

}  // namespace raftkv::faults
