#include "server/etcd/leader_forwarder.h"

#include <utility>

#include "absl/strings/match.h"

namespace raftkv::server::etcd {
namespace {

constexpr char kForwardedKey[] = "raftkv-forwarded-to-leader";
// More distinct leader URLs than any cluster has members: the cache starts over.
constexpr size_t kMaxChannels = 16;

// A gRPC target for an advertised client URL ("http://10.0.0.1:2379" → "10.0.0.1:2379").
std::string GrpcTarget(const std::string& url) {
  for (const char* scheme : {"http://", "https://"}) {
    if (absl::StartsWith(url, scheme)) return url.substr(std::string(scheme).size());
  }
  return url;
}

// Answers that only say leadership is moving; anything else is the leader's answer.
bool LeadershipMoving(const absl::Status& status) {
  return status == LeaderChangedError() || status == NoLeaderError();
}

}  // namespace

struct LeaderForwarder::Forwarding {
  absl::Time deadline;
  Attempt attempt;
  Done done;
  // Why the last attempt did not get an answer.
  absl::Status last = NoLeaderError();
};

LeaderForwarder::LeaderForwarder(Backend* backend, absl::Duration retry_interval,
                                 std::shared_ptr<::grpc::ChannelCredentials> tls)
    : backend_(backend),
      retry_interval_(retry_interval),
      tls_(tls != nullptr ? std::move(tls)
                          : ::grpc::SslCredentials(::grpc::SslCredentialsOptions())) {}

bool LeaderForwarder::WasForwarded(const ::grpc::ServerContextBase& context) {
  return context.client_metadata().count(kForwardedKey) > 0;
}

void LeaderForwarder::Prepare(::grpc::ClientContext& client, absl::Time deadline) {
  client.set_deadline(absl::ToChronoTime(deadline));
  client.AddMetadata(kForwardedKey, "1");
}

absl::Status LeaderForwarder::Relay(const ::grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  if (status.error_code() == ::grpc::StatusCode::UNAVAILABLE &&
      !absl::StartsWith(status.error_message(), "etcdserver:")) {
    return LeaderChangedError();
  }
  if (status.error_code() == ::grpc::StatusCode::DEADLINE_EXCEEDED) return TimeoutError();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

absl::StatusOr<std::shared_ptr<::grpc::Channel>> LeaderForwarder::LeaderChannel() {
  const NodeInfo info = backend_->Info();
  if (info.leader_id == 0) return NoLeaderError();
  std::string target;
  bool secure = false;
  for (const MemberInfo& member : info.members) {
    if (member.id == info.leader_id && !member.client_urls.empty()) {
      target = GrpcTarget(member.client_urls.front());
      secure = absl::StartsWith(member.client_urls.front(), "https://");
    }
  }
  if (target.empty()) return TimeoutError();
  absl::MutexLock lock(&mu_);
  auto it = channels_.find(target);
  if (it == channels_.end()) {
    if (channels_.size() >= kMaxChannels) channels_.clear();
    it = channels_
             .emplace(target,
                      ::grpc::CreateChannel(
                          target, secure ? tls_ : ::grpc::InsecureChannelCredentials()))
             .first;
  }
  return it->second;
}

void LeaderForwarder::ForwardUntilAnswered(absl::Time deadline, Attempt attempt, Done done) {
  auto forwarding = std::make_shared<Forwarding>();
  forwarding->deadline = deadline;
  forwarding->attempt = std::move(attempt);
  forwarding->done = std::move(done);
  // The first attempt runs on the timer thread too: callers answer from the node thread, which
  // must not look up members or open channels.
  TryLater(std::move(forwarding), absl::Now());
}

void LeaderForwarder::TryLater(std::shared_ptr<Forwarding> forwarding, absl::Time when) {
  RetryTimer::Fn next = [this, forwarding](bool on_time) mutable {
    if (!on_time) return forwarding->done(StoppedError());
    Try(std::move(forwarding));
  };
  if (timer_.Schedule(when, std::move(next))) return;
  // Refused: the timer is full (that many calls wait for the leader) or going away.
  forwarding->done(backend_->Stopped() ? StoppedError() : TooManyRequestsError());
}

void LeaderForwarder::Try(std::shared_ptr<Forwarding> forwarding) {
  if (backend_->Stopped()) return forwarding->done(StoppedError());
  if (absl::Now() >= forwarding->deadline) {
    return forwarding->done(forwarding->last == NoLeaderError() ? NoLeaderError() : TimeoutError());
  }
  absl::StatusOr<std::shared_ptr<::grpc::Channel>> channel = LeaderChannel();
  if (!channel.ok()) {
    forwarding->last = channel.status();
    return TryLater(std::move(forwarding), absl::Now() + retry_interval_);
  }
  const absl::Time deadline = forwarding->deadline;
  forwarding->attempt(*channel, deadline, [this, forwarding](absl::Status answer) mutable {
    if (!LeadershipMoving(answer)) return forwarding->done(std::move(answer));
    forwarding->last = std::move(answer);
    TryLater(std::move(forwarding), absl::Now() + retry_interval_);
  });
}

}  // namespace raftkv::server::etcd
