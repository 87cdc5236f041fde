// etcd's Lock and Election services driven by generated grpc++ stubs over loopback, against the
// single-member test Backend: what etcd 3.4's v3lock and v3election servers answer (keys
// "<name>/<lease hex>", headers, errors), waiting for the keys ahead to be deleted, and the
// clean-up of a contender that gives up.
#include <atomic>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "etcd/etcdserver/api/v3election/v3electionpb/v3election.grpc.pb.h"
#include "etcd/etcdserver/api/v3lock/v3lockpb/v3lock.grpc.pb.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "gtest/gtest.h"
#include "server/etcd/test_backend.h"

namespace raftkv::server::etcd {
namespace {

using testing::TestBackend;
using testing::TestServer;

// Polls `done` every 10 ms for up to 10 s.
bool Eventually(const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return done();
}

class ConcurrencyServiceTest : public ::testing::Test {
 protected:
  ConcurrencyServiceTest()
      : kv_(etcdserverpb::KV::NewStub(server_.NewChannel())),
        lease_(etcdserverpb::Lease::NewStub(server_.NewChannel())),
        lock_(v3lockpb::Lock::NewStub(server_.NewChannel())),
        election_(v3electionpb::Election::NewStub(server_.NewChannel())) {}

  void Grant(int64_t id) {
    etcdserverpb::LeaseGrantRequest request;
    request.set_id(id);
    request.set_ttl(30);
    etcdserverpb::LeaseGrantResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(lease_->LeaseGrant(&context, request, &response).ok());
  }

  void Revoke(int64_t id) {
    etcdserverpb::LeaseRevokeRequest request;
    request.set_id(id);
    etcdserverpb::LeaseRevokeResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(lease_->LeaseRevoke(&context, request, &response).ok());
  }

  // The key's KeyValue, or nullopt when it does not exist.
  std::optional<mvccpb::KeyValue> Get(const std::string& key) {
    etcdserverpb::RangeRequest request;
    request.set_key(key);
    etcdserverpb::RangeResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(kv_->Range(&context, request, &response).ok());
    if (response.kvs_size() == 0) return std::nullopt;
    return response.kvs(0);
  }

  grpc::Status Lock(const std::string& name, int64_t lease, v3lockpb::LockResponse* response,
                    absl::Duration timeout = absl::Seconds(20)) {
    v3lockpb::LockRequest request;
    request.set_name(name);
    request.set_lease(lease);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    return lock_->Lock(&context, request, response);
  }

  // A Lock call running on its own thread.
  std::future<std::pair<grpc::Status, v3lockpb::LockResponse>> LockInBackground(
      const std::string& name, int64_t lease, absl::Duration timeout = absl::Seconds(20)) {
    return std::async(std::launch::async, [this, name, lease, timeout] {
      v3lockpb::LockResponse response;
      grpc::Status status = Lock(name, lease, &response, timeout);
      return std::make_pair(status, response);
    });
  }

  int64_t Unlock(const std::string& key) {
    v3lockpb::UnlockRequest request;
    request.set_key(key);
    v3lockpb::UnlockResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(lock_->Unlock(&context, request, &response).ok());
    return response.header().revision();
  }

  grpc::Status Campaign(const std::string& name, int64_t lease, const std::string& value,
                        v3electionpb::CampaignResponse* response) {
    v3electionpb::CampaignRequest request;
    request.set_name(name);
    request.set_lease(lease);
    request.set_value(value);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    return election_->Campaign(&context, request, response);
  }

  grpc::Status Leader(const std::string& name, v3electionpb::LeaderResponse* response) {
    v3electionpb::LeaderRequest request;
    request.set_name(name);
    grpc::ClientContext context;
    return election_->Leader(&context, request, response);
  }

  grpc::Status Resign(const v3electionpb::LeaderKey& leader) {
    v3electionpb::ResignRequest request;
    *request.mutable_leader() = leader;
    v3electionpb::ResignResponse response;
    grpc::ClientContext context;
    return election_->Resign(&context, request, &response);
  }

  grpc::Status Proclaim(const v3electionpb::LeaderKey& leader, const std::string& value) {
    v3electionpb::ProclaimRequest request;
    *request.mutable_leader() = leader;
    request.set_value(value);
    v3electionpb::ProclaimResponse response;
    grpc::ClientContext context;
    return election_->Proclaim(&context, request, &response);
  }

  TestServer server_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
  std::unique_ptr<v3lockpb::Lock::Stub> lock_;
  std::unique_ptr<v3electionpb::Election::Stub> election_;
};

// ---- Lock ----

TEST_F(ConcurrencyServiceTest, LockAcquiresAFreeLockWithTheKeyNameSlashLeaseHex) {
  Grant(0x1f);
  v3lockpb::LockResponse response;
  grpc::Status status = Lock("jobs", 0x1f, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.key(), "jobs/1f");
  EXPECT_EQ(response.header().revision(), 2) << "the header of the txn that put the key";
  EXPECT_EQ(response.header().member_id(), TestBackend::kMemberId);
  EXPECT_EQ(response.header().cluster_id(), TestBackend::kClusterId);
  std::optional<mvccpb::KeyValue> key = Get("jobs/1f");
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->lease(), 0x1f);
  EXPECT_EQ(key->value(), "");
}

TEST_F(ConcurrencyServiceTest, LockingAgainWithTheHoldingLeaseAnswersTheSameKeyAtOnce) {
  Grant(0x1f);
  v3lockpb::LockResponse first;
  ASSERT_TRUE(Lock("jobs", 0x1f, &first).ok());
  v3lockpb::LockResponse again;
  ASSERT_TRUE(Lock("jobs", 0x1f, &again).ok());
  EXPECT_EQ(again.key(), first.key());
  EXPECT_EQ(Get("jobs/1f")->create_revision(), first.header().revision());
}

TEST_F(ConcurrencyServiceTest, ASecondLockWaitsUntilTheFirstIsUnlocked) {
  Grant(1);
  Grant(2);
  v3lockpb::LockResponse first;
  ASSERT_TRUE(Lock("jobs", 1, &first).ok());
  auto second = LockInBackground("jobs", 2);
  // The second contender has queued its key behind the first.
  ASSERT_TRUE(Eventually([&] { return Get("jobs/2").has_value(); }));
  EXPECT_EQ(second.wait_for(std::chrono::seconds(0)), std::future_status::timeout);

  const int64_t unlocked_at = Unlock(first.key());
  auto [status, response] = second.get();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.key(), "jobs/2");
  EXPECT_GE(response.header().revision(), unlocked_at)
      << "acquired by a read that saw the first key deleted";
  EXPECT_FALSE(Get("jobs/1").has_value());
}

TEST_F(ConcurrencyServiceTest, AHolderWhoseLeaseEndsReleasesTheLock) {
  Grant(1);
  Grant(2);
  v3lockpb::LockResponse first;
  ASSERT_TRUE(Lock("jobs", 1, &first).ok());
  auto second = LockInBackground("jobs", 2);
  ASSERT_TRUE(Eventually([&] { return Get("jobs/2").has_value(); }));
  // An expired lease is revoked through the log like this.
  Revoke(1);
  auto [status, response] = second.get();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.key(), "jobs/2");
}

TEST_F(ConcurrencyServiceTest, AWaiterWhoseLeaseEndsFailsWithSessionExpired) {
  Grant(1);
  Grant(2);
  v3lockpb::LockResponse first;
  ASSERT_TRUE(Lock("jobs", 1, &first).ok());
  auto second = LockInBackground("jobs", 2);
  ASSERT_TRUE(Eventually([&] { return Get("jobs/2").has_value(); }));
  Revoke(2);
  auto [status, response] = second.get();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(status.error_message(), "session expired");
  EXPECT_TRUE(Get("jobs/1").has_value()) << "the holder still holds";
}

TEST_F(ConcurrencyServiceTest, ALockThatTimesOutWhileWaitingDeletesItsKey) {
  Grant(1);
  Grant(2);
  v3lockpb::LockResponse first;
  ASSERT_TRUE(Lock("jobs", 1, &first).ok());
  v3lockpb::LockResponse response;
  grpc::Status status = Lock("jobs", 2, &response, absl::Milliseconds(300));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_TRUE(Eventually([&] { return !Get("jobs/2").has_value(); }))
      << "the abandoned contender's key is still queued";
  EXPECT_TRUE(Get("jobs/1").has_value());
}

TEST_F(ConcurrencyServiceTest, LockWithLeaseZeroGrantsASixtySecondLease) {
  v3lockpb::LockResponse response;
  ASSERT_TRUE(Lock("jobs", 0, &response).ok());
  std::optional<mvccpb::KeyValue> key = Get(response.key());
  ASSERT_TRUE(key.has_value());
  ASSERT_NE(key->lease(), 0);
  EXPECT_EQ(response.key(), absl::StrCat("jobs/", absl::Hex(key->lease())));
  etcdserverpb::LeaseTimeToLiveRequest request;
  request.set_id(key->lease());
  etcdserverpb::LeaseTimeToLiveResponse ttl;
  grpc::ClientContext context;
  ASSERT_TRUE(lease_->LeaseTimeToLive(&context, request, &ttl).ok());
  EXPECT_EQ(ttl.grantedttl(), 60);
}

TEST_F(ConcurrencyServiceTest, LockWithALeaseThatDoesNotExistIsNotFound) {
  v3lockpb::LockResponse response;
  grpc::Status status = Lock("jobs", 0x99, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "etcdserver: requested lease not found");
}

TEST_F(ConcurrencyServiceTest, UnlockDeletesTheKeyAndAnswersTheDeleteRevision) {
  Grant(1);
  v3lockpb::LockResponse held;
  ASSERT_TRUE(Lock("jobs", 1, &held).ok());
  EXPECT_EQ(Unlock(held.key()), held.header().revision() + 1);
  EXPECT_FALSE(Get(held.key()).has_value());
}

// ---- Election ----

TEST_F(ConcurrencyServiceTest, CampaignOnAnEmptyElectionLeadsAtOnce) {
  Grant(0xa);
  v3electionpb::CampaignResponse response;
  grpc::Status status = Campaign("svc", 0xa, "host-a", &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.leader().name(), "svc");
  EXPECT_EQ(response.leader().key(), "svc/a");
  EXPECT_EQ(response.leader().rev(), 2);
  EXPECT_EQ(response.leader().lease(), 0xa);
  EXPECT_EQ(response.header().revision(), 2);

  v3electionpb::LeaderResponse leader;
  ASSERT_TRUE(Leader("svc", &leader).ok());
  EXPECT_EQ(leader.kv().key(), "svc/a");
  EXPECT_EQ(leader.kv().value(), "host-a");
  EXPECT_EQ(leader.header().member_id(), TestBackend::kMemberId);
}

TEST_F(ConcurrencyServiceTest, LeaderOfAnElectionWithoutCandidatesIsElectionNoLeader) {
  v3electionpb::LeaderResponse leader;
  grpc::Status status = Leader("svc", &leader);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(status.error_message(), "election: no leader");
}

TEST_F(ConcurrencyServiceTest, ASecondCandidateLeadsOnceTheFirstResigns) {
  Grant(0xa);
  Grant(0xb);
  v3electionpb::CampaignResponse first;
  ASSERT_TRUE(Campaign("svc", 0xa, "host-a", &first).ok());
  auto second = std::async(std::launch::async, [this] {
    v3electionpb::CampaignResponse response;
    grpc::Status status = Campaign("svc", 0xb, "host-b", &response);
    return std::make_pair(status, response);
  });
  ASSERT_TRUE(Eventually([&] { return Get("svc/b").has_value(); }));
  EXPECT_EQ(second.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  v3electionpb::LeaderResponse leader;
  ASSERT_TRUE(Leader("svc", &leader).ok());
  EXPECT_EQ(leader.kv().value(), "host-a");

  ASSERT_TRUE(Resign(first.leader()).ok());
  auto [status, response] = second.get();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.leader().key(), "svc/b");
  ASSERT_TRUE(Leader("svc", &leader).ok());
  EXPECT_EQ(leader.kv().value(), "host-b");
}

TEST_F(ConcurrencyServiceTest, ProclaimChangesTheLeadersValueOnlyForTheSameKeyRevision) {
  Grant(0xa);
  v3electionpb::CampaignResponse elected;
  ASSERT_TRUE(Campaign("svc", 0xa, "v1", &elected).ok());
  ASSERT_TRUE(Proclaim(elected.leader(), "v2").ok());
  v3electionpb::LeaderResponse leader;
  ASSERT_TRUE(Leader("svc", &leader).ok());
  EXPECT_EQ(leader.kv().value(), "v2");
  EXPECT_EQ(leader.kv().create_revision(), elected.leader().rev());

  v3electionpb::LeaderKey stale = elected.leader();
  stale.set_rev(stale.rev() + 100);
  grpc::Status status = Proclaim(stale, "v3");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(status.error_message(), "election: not leader");
}

TEST_F(ConcurrencyServiceTest, ProclaimAndResignWithoutALeaderKeyAreRefused) {
  v3electionpb::ProclaimRequest proclaim;
  v3electionpb::ProclaimResponse proclaimed;
  grpc::ClientContext context;
  grpc::Status status = election_->Proclaim(&context, proclaim, &proclaimed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(status.error_message(), "\"leader\" field must be provided");
  v3electionpb::ResignRequest resign;
  v3electionpb::ResignResponse resigned;
  grpc::ClientContext other;
  status = election_->Resign(&other, resign, &resigned);
  EXPECT_EQ(status.error_message(), "\"leader\" field must be provided");
}

TEST_F(ConcurrencyServiceTest, CampaigningAgainWithANewValueKeepsThePlaceAndProclaims) {
  Grant(0xa);
  v3electionpb::CampaignResponse first;
  ASSERT_TRUE(Campaign("svc", 0xa, "v1", &first).ok());
  v3electionpb::CampaignResponse again;
  ASSERT_TRUE(Campaign("svc", 0xa, "v2", &again).ok());
  EXPECT_EQ(again.leader().rev(), first.leader().rev());
  v3electionpb::LeaderResponse leader;
  ASSERT_TRUE(Leader("svc", &leader).ok());
  EXPECT_EQ(leader.kv().value(), "v2");
}

TEST_F(ConcurrencyServiceTest, ObserveStreamsEachNewLeaderAndValue) {
  Grant(0xa);
  Grant(0xb);
  grpc::ClientContext context;
  v3electionpb::LeaderRequest request;
  request.set_name("svc");
  auto stream = election_->Observe(&context, request);

  v3electionpb::CampaignResponse a;
  ASSERT_TRUE(Campaign("svc", 0xa, "host-a", &a).ok());
  v3electionpb::LeaderResponse observed;
  ASSERT_TRUE(stream->Read(&observed));
  EXPECT_EQ(observed.kv().key(), "svc/a");
  EXPECT_EQ(observed.kv().value(), "host-a");

  ASSERT_TRUE(Proclaim(a.leader(), "host-a2").ok());
  ASSERT_TRUE(stream->Read(&observed));
  EXPECT_EQ(observed.kv().value(), "host-a2");

  auto b = std::async(std::launch::async, [this] {
    v3electionpb::CampaignResponse response;
    return Campaign("svc", 0xb, "host-b", &response);
  });
  ASSERT_TRUE(Eventually([&] { return Get("svc/b").has_value(); }));
  ASSERT_TRUE(Resign(a.leader()).ok());
  ASSERT_TRUE(stream->Read(&observed));
  EXPECT_EQ(observed.kv().key(), "svc/b");
  EXPECT_EQ(observed.kv().value(), "host-b");
  EXPECT_TRUE(b.get().ok());

  context.TryCancel();
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(ConcurrencyServiceTest, ACampaignThatTimesOutWhileWaitingResigns) {
  Grant(0xa);
  Grant(0xb);
  v3electionpb::CampaignResponse first;
  ASSERT_TRUE(Campaign("svc", 0xa, "host-a", &first).ok());
  v3electionpb::CampaignRequest request;
  request.set_name("svc");
  request.set_lease(0xb);
  request.set_value("host-b");
  v3electionpb::CampaignResponse response;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Milliseconds(300)));
  EXPECT_EQ(election_->Campaign(&context, request, &response).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_TRUE(Eventually([&] { return !Get("svc/b").has_value(); }));
}

}  // namespace
}  // namespace raftkv::server::etcd
