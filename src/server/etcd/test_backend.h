// Test double for the API layer: a single-member Backend that applies writes straight to a
// kv::Store (no raft), plus an in-process gRPC server on a loopback port serving the client API
// over it. Errors can be injected to check how the services report them.
// Thread-safety: thread-safe (gRPC threads call the backend while the test inspects it).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kv/store.h"
#include "server/etcd/backend.h"
#include "server/etcd/client_api.h"

namespace raftkv::server::etcd::testing {

class TestBackend final : public Backend {
 public:
  static constexpr uint64_t kClusterId = 0x1c2d3e4f5a6b7c8d;
  static constexpr uint64_t kMemberId = 0x8e9dcaf1c3b2a110;
  static constexpr uint64_t kTerm = 7;

  void Write(kvpb::Request request, absl::Time, WriteDone done) override {
    absl::StatusOr<kvpb::Response> result;
    {
      absl::MutexLock lock(&mu_);
      if (write_error_.has_value()) {
        result = *write_error_;
      } else {
        ++writes_;
        last_request_ = request;
        // Like the node driver, the member picks the id of a grant that names none.
        if (request.has_lease_grant() && request.lease_grant().id() == 0) {
          request.mutable_lease_grant()->set_id(next_lease_id_++);
        }
        result = store_.Apply(request, store_.applied_index() + 1);
      }
    }
    // Like the node thread: the watch side hears of the change after the store applied it.
    AnnounceChange();
    done(std::move(result));
  }

  void WaitLinearizable(absl::Time, WaitDone done) override {
    absl::Status status;
    {
      absl::MutexLock lock(&mu_);
      ++linearizable_waits_;
      status = read_error_.value_or(absl::OkStatus());
    }
    done(std::move(status));
  }

  void Read(absl::FunctionRef<void(const kv::Store&)> fn) override {
    absl::ReaderMutexLock lock(&mu_);
    fn(store_);
  }

  NodeInfo Info() override {
    absl::MutexLock lock(&mu_);
    NodeInfo info;
    info.cluster_id = kClusterId;
    info.member_id = kMemberId;
    info.leader_id = leaderless_ ? 0 : kMemberId;
    info.raft_term = kTerm;
    info.commit_index = store_.applied_index() + 1;  // one entry committed, not yet applied
    info.applied_index = store_.applied_index();
    info.db_size_bytes = store_.size_bytes();
    info.members.push_back({.id = kMemberId,
                            .name = "infra0",
                            .peer_urls = {"http://127.0.0.1:2380"},
                            .client_urls = {client_url_},
                            .is_learner = false});
    info.members.push_back({.id = 0x2a,
                            .name = "",
                            .peer_urls = {"http://127.0.0.1:2390"},
                            .client_urls = {},
                            .is_learner = false});
    return info;
  }

  bool SetStoreListener(StoreListener listener) override {
    absl::MutexLock lock(&listener_mu_);
    listener_ = std::move(listener);
    return true;
  }
  bool Stopped() override { return stopped_.load(); }
  // What a stopping server does: no more service, and the watch side is told.
  void Stop() {
    stopped_ = true;
    AnnounceChange();
  }

  // ---- Leases: the store's leases, with no clock (remaining = granted TTL) ----
  void RenewLease(int64_t id, absl::Time, RenewDone done) override {
    absl::StatusOr<int64_t> answer;
    {
      absl::MutexLock lock(&mu_);
      if (lease_error_.has_value()) {
        answer = *lease_error_;
      } else {
        ++renewals_;
        auto lease = store_.FindLease(id, false);
        answer = lease.has_value() ? lease->ttl : 0;
      }
    }
    done(std::move(answer));
  }
  void LeaseTimeToLive(int64_t id, bool with_keys, absl::Time, TimeToLiveDone done) override {
    absl::StatusOr<etcd::LeaseTtl> answer;
    {
      absl::MutexLock lock(&mu_);
      auto lease = store_.FindLease(id, with_keys);
      if (lease_error_.has_value()) {
        answer = *lease_error_;
      } else if (!lease.has_value()) {
        answer = absl::NotFoundError("etcdserver: requested lease not found");
      } else {
        answer = etcd::LeaseTtl{.id = id,
                                       .remaining_seconds = lease->ttl,
                                       .granted_ttl = lease->ttl,
                                       .keys = std::move(lease->keys)};
      }
    }
    done(std::move(answer));
  }
  // What a member that does not lead answers (LeaderChangedError), or any other failure.
  void FailLeaseQueries(absl::Status status) {
    absl::MutexLock lock(&mu_);
    lease_error_ = std::move(status);
  }
  int renewals() {
    absl::MutexLock lock(&mu_);
    return renewals_;
  }
  // ---- end of Leases ----

  void FailWrites(absl::Status status) {
    absl::MutexLock lock(&mu_);
    write_error_ = std::move(status);
  }
  void FailLinearizableReads(absl::Status status) {
    absl::MutexLock lock(&mu_);
    read_error_ = std::move(status);
  }
  void LoseLeader() {
    absl::MutexLock lock(&mu_);
    leaderless_ = true;
  }
  void SetClientUrl(std::string url) {
    absl::MutexLock lock(&mu_);
    client_url_ = std::move(url);
  }
  int linearizable_waits() {
    absl::MutexLock lock(&mu_);
    return linearizable_waits_;
  }
  int writes() {
    absl::MutexLock lock(&mu_);
    return writes_;
  }
  // The last request handed to Write (as the service built it).
  kvpb::Request last_request() {
    absl::MutexLock lock(&mu_);
    return last_request_;
  }
  // The store's revision.
  int64_t revision() {
    absl::MutexLock lock(&mu_);
    return store_.revision();
  }

 private:
  void AnnounceChange() {
    absl::MutexLock lock(&listener_mu_);
    if (listener_) listener_();
  }

  absl::Mutex mu_;
  kv::Store store_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Status> write_error_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Status> read_error_ ABSL_GUARDED_BY(mu_);
  bool leaderless_ ABSL_GUARDED_BY(mu_) = false;
  std::string client_url_ ABSL_GUARDED_BY(mu_);
  int linearizable_waits_ ABSL_GUARDED_BY(mu_) = 0;
  int writes_ ABSL_GUARDED_BY(mu_) = 0;
  kvpb::Request last_request_ ABSL_GUARDED_BY(mu_);
  int64_t next_lease_id_ ABSL_GUARDED_BY(mu_) = 0x7e57000000000001;
  std::optional<absl::Status> lease_error_ ABSL_GUARDED_BY(mu_);
  int renewals_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Mutex listener_mu_;
  StoreListener listener_ ABSL_GUARDED_BY(listener_mu_);
  std::atomic<bool> stopped_{false};
};

// The client API over a TestBackend, listening on a free loopback port.
class TestServer {
 public:
  explicit TestServer(ClientApiOptions options = {}) : api_(&backend_, std::move(options)) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    api_.Configure(builder);
    server_ = builder.BuildAndStart();
    EXPECT_NE(server_, nullptr);
    EXPECT_GT(port_, 0);
    backend_.SetClientUrl("http://" + address());
  }
  // Calls still open a second later (a watch stream a failed test left behind) are canceled.
  ~TestServer() {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  TestBackend& backend() { return backend_; }
  std::shared_ptr<grpc::Channel> NewChannel() const {
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(4 * 1024 * 1024);
    return grpc::CreateCustomChannel(address(), grpc::InsecureChannelCredentials(), args);
  }

 private:
  TestBackend backend_;
  ClientApi api_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace raftkv::server::etcd::testing
