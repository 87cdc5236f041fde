#include "server/etcd/lease_forwarding.h"

#include <memory>
#include <string>
#include <utility>

#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "kv/errors.h"

namespace raftkv::server::etcd {
namespace {

// One keep-alive as a stream of one request: write it (closing our side), read the answer,
// and report once gRPC is done with the call. Deletes itself in OnDone.
class ForwardedKeepAlive final
    : public ::grpc::ClientBidiReactor<etcdserverpb::LeaseKeepAliveRequest,
                                       etcdserverpb::LeaseKeepAliveResponse> {
 public:
  using Done = absl::AnyInvocable<void(absl::StatusOr<int64_t>)>;

  static void Start(const std::shared_ptr<::grpc::Channel>& channel, int64_t id,
                    absl::Time deadline, Done done) {
    auto* call = new ForwardedKeepAlive(channel, id, deadline, std::move(done));
    call->stub_->async()->LeaseKeepAlive(&call->context_, call);
    call->StartWriteLast(&call->request_, ::grpc::WriteOptions());
    call->StartRead(&call->response_);
    call->StartCall();
  }

  void OnReadDone(bool ok) override { answered_ = ok; }

  void OnDone(const ::grpc::Status& status) override {
    if (!status.ok()) {
      done_(LeaderForwarder::Relay(status));
    } else if (!answered_) {
      // The leader closed the stream without answering: it is stopping.
      done_(LeaderChangedError());
    } else {
      done_(response_.ttl());
    }
    delete this;
  }

 private:
  ForwardedKeepAlive(const std::shared_ptr<::grpc::Channel>& channel, int64_t id,
                     absl::Time deadline, Done done)
      : stub_(etcdserverpb::Lease::NewStub(channel)), done_(std::move(done)) {
    LeaderForwarder::Prepare(context_, deadline);
    request_.set_id(id);
  }

  std::unique_ptr<etcdserverpb::Lease::Stub> stub_;
  ::grpc::ClientContext context_;
  etcdserverpb::LeaseKeepAliveRequest request_;
  etcdserverpb::LeaseKeepAliveResponse response_;
  bool answered_ = false;
  Done done_;
};

// One TTL query; lives until gRPC's callback ran.
struct ForwardedTimeToLive {
  std::unique_ptr<etcdserverpb::Lease::Stub> stub;
  ::grpc::ClientContext context;
  etcdserverpb::LeaseTimeToLiveRequest request;
  etcdserverpb::LeaseTimeToLiveResponse response;
};

}  // namespace

void ForwardRenewLease(LeaderForwarder& forwarder, int64_t id, absl::Time deadline,
                       Backend::RenewDone done) {
  auto ttl = std::make_shared<int64_t>(0);
  forwarder.ForwardUntilAnswered(
      deadline,
      [id, ttl](const std::shared_ptr<::grpc::Channel>& channel, absl::Time deadline,
                LeaderForwarder::AttemptDone attempt_done) {
        ForwardedKeepAlive::Start(
            channel, id, deadline,
            [ttl, attempt_done = std::move(attempt_done)](absl::StatusOr<int64_t> answer) mutable {
              if (answer.ok()) *ttl = *answer;
              attempt_done(answer.status());
            });
      },
      [ttl, done = std::move(done)](absl::Status status) mutable {
        if (!status.ok()) return done(std::move(status));
        done(*ttl);
      });
}

void ForwardLeaseTimeToLive(LeaderForwarder& forwarder, int64_t id, bool with_keys,
                            absl::Time deadline, Backend::TimeToLiveDone done) {
  auto answer = std::make_shared<LeaseTtl>();
  forwarder.ForwardUntilAnswered(
      deadline,
      [id, with_keys, answer](const std::shared_ptr<::grpc::Channel>& channel, absl::Time deadline,
                              LeaderForwarder::AttemptDone attempt_done) {
        auto call = std::make_shared<ForwardedTimeToLive>();
        call->stub = etcdserverpb::Lease::NewStub(channel);
        LeaderForwarder::Prepare(call->context, deadline);
        call->request.set_id(id);
        call->request.set_keys(with_keys);
        // gRPC keeps the completion in a std::function, which must be copyable.
        auto report = std::make_shared<LeaderForwarder::AttemptDone>(std::move(attempt_done));
        call->stub->async()->LeaseTimeToLive(&call->context, &call->request, &call->response,
                                             [call, answer, report](::grpc::Status status) {
                                               if (!status.ok())
                                                 return (*report)(LeaderForwarder::Relay(status));
                                               // The leader answers a lease it does not have with
                                               // TTL -1, as etcd.
                                               if (call->response.ttl() == -1)
                                                 return (*report)(kv::LeaseNotFoundError());
                                               answer->id = call->response.id();
                                               answer->remaining_seconds = call->response.ttl();
                                               answer->granted_ttl = call->response.grantedttl();
                                               answer->keys.assign(call->response.keys().begin(),
                                                                   call->response.keys().end());
                                               (*report)(absl::OkStatus());
                                             });
      },
      [answer, done = std::move(done)](absl::Status status) mutable {
        if (!status.ok()) return done(std::move(status));
        done(std::move(*answer));
      });
}

}  // namespace raftkv::server::etcd
