#include "server/etcd/backend.h"

namespace raftkv::server::etcd {

absl::Status RequestTooLargeError() {
  return absl::InvalidArgumentError("etcdserver: request is too large");
}
absl::Status NotLeaderError() { return absl::FailedPreconditionError("etcdserver: not leader"); }

absl::Status MemberNotFoundError() { return absl::NotFoundError("etcdserver: member not found"); }
absl::Status InvalidMemberUrlsError() {
  return absl::InvalidArgumentError("etcdserver: given member URLs are invalid");
}
absl::Status PeerUrlExistsError() {
  return absl::FailedPreconditionError("etcdserver: Peer URLs already exists");
}
absl::Status NotEnoughStartedError() {
  return absl::FailedPreconditionError(
      "etcdserver: re-configuration failed due to not enough started members");
}
absl::Status MemberNotLearnerError() {
  return absl::FailedPreconditionError("etcdserver: can only promote a learner member");
}
absl::Status BadLeaderTransfereeError() {
  return absl::FailedPreconditionError("etcdserver: bad leader transferee");
}

absl::StatusOr<MemberInfo> Backend::AddMember(const std::vector<std::string>&, bool, absl::Time) {
  return absl::UnimplementedError("membership changes are not served by this backend");
}
absl::Status Backend::RemoveMember(uint64_t, absl::Time) {
  return absl::UnimplementedError("membership changes are not served by this backend");
}
absl::Status Backend::PromoteMember(uint64_t, absl::Time) {
  return absl::UnimplementedError("membership changes are not served by this backend");
}
absl::Status Backend::MoveLeader(uint64_t, absl::Time) {
  return absl::UnimplementedError("leadership transfer is not served by this backend");
}
absl::Status Backend::UpdateMember(uint64_t, const std::vector<std::string>&, absl::Time) {
  return absl::UnimplementedError("membership changes are not served by this backend");
}

// Watch: a backend that cannot announce changes is polled.
bool Backend::SetStoreListener(StoreListener) { return false; }
bool Backend::Stopped() { return false; }

// Leases: a backend without a lease clock serves no keep-alives or TTL queries.
void Backend::RenewLease(int64_t, absl::Time, RenewDone done) {
  done(absl::UnimplementedError("leases are not served by this backend"));
}
void Backend::LeaseTimeToLive(int64_t, bool, absl::Time, TimeToLiveDone done) {
  done(absl::UnimplementedError("leases are not served by this backend"));
}

}  // namespace raftkv::server::etcd
