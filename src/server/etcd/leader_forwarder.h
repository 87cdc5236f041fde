// Sending a call that only the leader can answer to the leader's advertised client URL, as
// etcd's followers do for membership changes, lease keep-alives and lease TTL queries.
//
// A forwarded call carries a metadata mark and is never forwarded again, so two members that
// disagree about who leads cannot bounce it between them: the receiver answers it itself, and
// if it no longer leads its "leader changed" answer goes back to the sender.
//
// ForwardUntilAnswered repeats the call, as etcd's LeaseRenew and LeaseTimeToLive do, while the
// answer only says that leadership is moving ("no leader", "leader changed", the leader could
// not be reached), waiting `retry_interval` between attempts on the forwarder's own timer thread,
// until the deadline. No thread blocks: attempts use gRPC's asynchronous client.
//
// Thread-safety: thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "server/etcd/backend.h"
#include "server/etcd/retry_timer.h"

namespace raftkv::server::etcd {

class LeaderForwarder {
 public:
  // `backend` (not owned) tells who leads and where its clients connect. `tls` is used for a
  // leader's https:// client URL (this member's client certificate, for --client-cert-auth);
  // null: https:// URLs are dialled with gRPC's default TLS (system roots, no certificate).
  explicit LeaderForwarder(Backend* backend,
                           absl::Duration retry_interval = absl::Milliseconds(100),
                           std::shared_ptr<::grpc::ChannelCredentials> tls = nullptr);

  // True when another member forwarded this call here.
  static bool WasForwarded(const ::grpc::ServerContextBase& context);
  // Marks `client` as a forwarded call and bounds it by `deadline`.
  static void Prepare(::grpc::ClientContext& client, absl::Time deadline);
  // The leader's answer as this member relays it. A failure to reach the leader (UNAVAILABLE
  // from gRPC itself, not an etcd error) becomes "etcdserver: leader changed", which clients
  // retry; a forwarded call that ran out of time is "etcdserver: request timed out".
  static absl::Status Relay(const ::grpc::Status& status);

  // A channel to the leader's first client URL; NoLeaderError when no leader is known, and
  // TimeoutError when the leader has not announced its client URLs yet (it just started).
  absl::StatusOr<std::shared_ptr<::grpc::Channel>> LeaderChannel();

  // `attempt` sends the call once over the channel (with a ClientContext from Prepare) and
  // reports the relayed answer. `done` gets the first answer that is not a leadership change,
  // or at the deadline "etcdserver: no leader" (no leader was known) or "etcdserver: request
  // timed out"; "server stopped" once the backend stops. `done` runs on a gRPC or timer thread,
  // never on the caller's.
  using AttemptDone = absl::AnyInvocable<void(absl::Status)>;
  using Attempt =
      std::function<void(const std::shared_ptr<::grpc::Channel>&, absl::Time, AttemptDone)>;
  using Done = absl::AnyInvocable<void(absl::Status)>;
  void ForwardUntilAnswered(absl::Time deadline, Attempt attempt, Done done);

 private:
  struct Forwarding;
  void Try(std::shared_ptr<Forwarding> forwarding);
  void TryLater(std::shared_ptr<Forwarding> forwarding, absl::Time when);

  Backend* const backend_;
  const absl::Duration retry_interval_;
  absl::Mutex mu_;
  // One channel per leader URL seen; a handful at most (one per member).
  const std::shared_ptr<::grpc::ChannelCredentials> tls_;
  std::map<std::string, std::shared_ptr<::grpc::Channel>> channels_ ABSL_GUARDED_BY(mu_);
  // Declared last: destroyed first, answering the forwardings still waiting for an attempt.
  RetryTimer timer_;
};

}  // namespace raftkv::server::etcd
