#include "server/etcd/backend.h"

namespace raftkv::server::etcd {

absl::Status NoLeaderError() { return absl::UnavailableError("etcdserver: no leader"); }
absl::Status LeaderChangedError() { return absl::UnavailableError("etcdserver: leader changed"); }
absl::Status TimeoutError() { return absl::UnavailableError("etcdserver: request timed out"); }
absl::Status TooManyRequestsError() {
  return absl::ResourceExhaustedError("etcdserver: too many requests");
}
absl::Status StoppedError() { return absl::UnavailableError("etcdserver: server stopped"); }
absl::Status RequestTooLargeError() {
  return absl::InvalidArgumentError("etcdserver: request is too large");
}
absl::Status NotLeaderError() { return absl::FailedPreconditionError("etcdserver: not leader"); }

}  // namespace raftkv::server::etcd
