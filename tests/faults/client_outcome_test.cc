// Which failed writes the history may call failed: only etcd's "never proposed" answers.
#include "client_outcome.h"

#include <gtest/gtest.h>

namespace raftkv::faults {
namespace {

using lincheck::OpStatus;

TEST(ClientOutcome, OnlyAnswersThatProveTheWriteWasNeverProposedCountAsFailed) {
  EXPECT_EQ(OutcomeOfFailedWrite({grpc::StatusCode::UNAVAILABLE, "etcdserver: no leader"}),
            OpStatus::kFailed);
  EXPECT_EQ(OutcomeOfFailedWrite({grpc::StatusCode::UNAVAILABLE, "etcdserver: leader changed"}),
            OpStatus::kFailed);
  EXPECT_EQ(
      OutcomeOfFailedWrite({grpc::StatusCode::RESOURCE_EXHAUSTED, "etcdserver: too many requests"}),
      OpStatus::kFailed);
}

TEST(ClientOutcome, TimeoutsAndBrokenConnectionsAreUnknown) {
  for (const grpc::Status& status : {
           grpc::Status(grpc::StatusCode::UNAVAILABLE, "etcdserver: request timed out"),
           grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "etcdserver: request timed out, possibly due to previous leader failure"),
           grpc::Status(grpc::StatusCode::UNAVAILABLE, "etcdserver: server stopped"),
           grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded"),
           grpc::Status(grpc::StatusCode::UNAVAILABLE, "Socket closed"),
           grpc::Status(grpc::StatusCode::UNAVAILABLE, "failed to connect to all addresses"),
           grpc::Status(grpc::StatusCode::CANCELLED, "Cancelled"),
           grpc::Status(grpc::StatusCode::UNKNOWN, "etcdserver: no leader"),
       }) {
    EXPECT_EQ(OutcomeOfFailedWrite(status), OpStatus::kUnknown) << status.error_message();
  }
}

}  // namespace
}  // namespace raftkv::faults
