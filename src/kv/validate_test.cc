// Stateless request checks.
#include "kv/validate.h"

#include "gtest/gtest.h"
#include "kv/store_test_util.h"

namespace raftkv::kv {
namespace {

TEST(Validate, IgnoreValueWithAValueIsRejected) {
  auto put = testing::PutReq("k", "v");
  put.set_ignore_value(true);
  EXPECT_EQ(ValidatePut(put).message(), "etcdserver: value is provided");
}

TEST(Validate, IgnoreLeaseWithALeaseIsRejected) {
  auto put = testing::PutReq("k", "v");
  put.set_ignore_lease(true);
  put.set_lease(3);
  EXPECT_EQ(ValidatePut(put).message(), "etcdserver: lease is provided");
}

TEST(Validate, DeleteWithEmptyKeyIsRejected) {
  EXPECT_EQ(ValidateDeleteRange(testing::DelReq("")).message(), "etcdserver: key is not provided");
}

TEST(Validate, RequestWithoutOperationIsRejected) {
  EXPECT_EQ(ValidateRequest(kvpb::Request()).code(), absl::StatusCode::kInvalidArgument);
}

TEST(Validate, WellFormedRequestsPass) {
  EXPECT_TRUE(ValidateRequest(testing::Wrap(testing::PutReq("k", "v"))).ok());
  EXPECT_TRUE(ValidateRequest(testing::CompactReq(5)).ok());
}

}  // namespace
}  // namespace raftkv::kv
