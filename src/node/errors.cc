#include "node/errors.h"

namespace raftkv::node {

absl::Status NoLeaderError() { return absl::UnavailableError("etcdserver: no leader"); }
absl::Status LeaderChangedError() { return absl::UnavailableError("etcdserver: leader changed"); }
absl::Status TimeoutError() { return absl::UnavailableError("etcdserver: request timed out"); }
absl::Status TimeoutDueToLeaderFailError() {
  return absl::UnavailableError(
      "etcdserver: request timed out, possibly due to previous leader failure");
}
absl::Status TooManyRequestsError() {
  return absl::ResourceExhaustedError("etcdserver: too many requests");
}
absl::Status StoppedError() { return absl::UnavailableError("etcdserver: server stopped"); }
absl::Status LearnerNotReadyError() {
  return absl::FailedPreconditionError(
      "etcdserver: can only promote a learner member which is in sync with leader");
}
absl::Status ChangeInProgressError() {
  return absl::FailedPreconditionError(
      "etcdserver: another membership change is being applied; retry when it is done");
}

}  // namespace raftkv::node
