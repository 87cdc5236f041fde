#include "server/etcd/session_lease.h"

#include <utility>

#include "server/etcd/concurrency_keys.h"

namespace raftkv::server::etcd {

void SessionLease(Backend& backend, int64_t lease, absl::Time deadline, SessionLeaseDone done) {
  if (lease != 0) return done(lease);
  kvpb::Request grant;
  grant.mutable_lease_grant()->set_ttl(kDefaultSessionTtlSeconds);
  backend.Write(std::move(grant), deadline,
                [done = std::move(done)](absl::StatusOr<kvpb::Response> granted) mutable {
                  if (!granted.ok()) return done(granted.status());
                  done(granted->lease_grant().id());
                });
}

}  // namespace raftkv::server::etcd
