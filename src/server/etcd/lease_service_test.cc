// etcd's Lease service driven by a grpc++ client over loopback, against the single-member test
// Backend: grant, revoke deleting the attached keys, keep-alive streams, TTL queries and the
// lease list, with etcd's codes and messages.
#include <memory>
#include <string>

#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/etcd/test_backend.h"

namespace raftkv::server::etcd {
namespace {

using testing::TestBackend;
using testing::TestServer;
using ::testing::ElementsAre;

class LeaseServiceTest : public ::testing::Test {
 protected:
  LeaseServiceTest()
      : kv_(etcdserverpb::KV::NewStub(server_.NewChannel())),
        lease_(etcdserverpb::Lease::NewStub(server_.NewChannel())) {}

  grpc::Status Grant(int64_t ttl, int64_t id, etcdserverpb::LeaseGrantResponse* response) {
    etcdserverpb::LeaseGrantRequest request;
    request.set_ttl(ttl);
    request.set_id(id);
    grpc::ClientContext context;
    return lease_->LeaseGrant(&context, request, response);
  }

  grpc::Status Put(const std::string& key, int64_t lease) {
    etcdserverpb::PutRequest request;
    request.set_key(key);
    request.set_value("v");
    request.set_lease(lease);
    etcdserverpb::PutResponse response;
    grpc::ClientContext context;
    return kv_->Put(&context, request, &response);
  }

  int64_t Count(const std::string& key) {
    etcdserverpb::RangeRequest request;
    request.set_key(key);
    etcdserverpb::RangeResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(kv_->Range(&context, request, &response).ok());
    return response.count();
  }

  TestServer server_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
};

TEST_F(LeaseServiceTest, GrantAnswersIdTtlAndAFullHeader) {
  etcdserverpb::LeaseGrantResponse response;
  ASSERT_TRUE(Grant(30, 0x77, &response).ok());
  EXPECT_EQ(response.id(), 0x77);
  EXPECT_EQ(response.ttl(), 30);
  EXPECT_EQ(response.header().cluster_id(), TestBackend::kClusterId);
  EXPECT_EQ(response.header().member_id(), TestBackend::kMemberId);
  EXPECT_EQ(response.header().raft_term(), TestBackend::kTerm);
  EXPECT_EQ(response.header().revision(), 1);
}

TEST_F(LeaseServiceTest, GrantErrorsAreEtcds) {
  etcdserverpb::LeaseGrantResponse response;
  ASSERT_TRUE(Grant(30, 0x77, &response).ok());
  grpc::Status again = Grant(30, 0x77, &response);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(again.error_message(), "etcdserver: lease already exists");
  grpc::Status too_large = Grant(9000000001, 0x78, &response);
  EXPECT_EQ(too_large.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(too_large.error_message(), "etcdserver: too large lease TTL");
}

TEST_F(LeaseServiceTest, PutWithAGrantedLeaseAttachesAndRevokeDeletesTheKeys) {
  etcdserverpb::LeaseGrantResponse granted;
  ASSERT_TRUE(Grant(30, 0x77, &granted).ok());
  ASSERT_TRUE(Put("a", 0x77).ok());
  ASSERT_TRUE(Put("b", 0x77).ok());
  EXPECT_EQ(Count("a"), 1);

  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(0x77);
  etcdserverpb::LeaseRevokeResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(lease_->LeaseRevoke(&context, request, &response).ok());
  EXPECT_EQ(response.header().revision(), 4) << "both keys deleted at one revision";
  EXPECT_EQ(response.header().member_id(), TestBackend::kMemberId);
  EXPECT_EQ(Count("a"), 0);
  EXPECT_EQ(Count("b"), 0);
}

TEST_F(LeaseServiceTest, RevokingAMissingLeaseIsNotFound) {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(0x99);
  etcdserverpb::LeaseRevokeResponse response;
  grpc::ClientContext context;
  grpc::Status status = lease_->LeaseRevoke(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "etcdserver: requested lease not found");
}

TEST_F(LeaseServiceTest, PutWithAMissingLeaseIsNotFound) {
  grpc::Status status = Put("k", 0x1234);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "etcdserver: requested lease not found");
}

TEST_F(LeaseServiceTest, TimeToLiveAnswersTtlsAndKeysAndMinusOneForAMissingLease) {
  etcdserverpb::LeaseGrantResponse granted;
  ASSERT_TRUE(Grant(30, 0x77, &granted).ok());
  ASSERT_TRUE(Put("b", 0x77).ok());
  ASSERT_TRUE(Put("a", 0x77).ok());

  etcdserverpb::LeaseTimeToLiveRequest request;
  request.set_id(0x77);
  request.set_keys(true);
  etcdserverpb::LeaseTimeToLiveResponse response;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(lease_->LeaseTimeToLive(&context, request, &response).ok());
  }
  EXPECT_EQ(response.id(), 0x77);
  EXPECT_EQ(response.ttl(), 30);
  EXPECT_EQ(response.grantedttl(), 30);
  EXPECT_THAT(response.keys(), ElementsAre("a", "b"));
  EXPECT_EQ(response.header().member_id(), TestBackend::kMemberId);

  request.set_id(0x78);
  response.Clear();
  grpc::ClientContext context;
  ASSERT_TRUE(lease_->LeaseTimeToLive(&context, request, &response).ok());
  EXPECT_EQ(response.id(), 0x78);
  EXPECT_EQ(response.ttl(), -1);
}

TEST_F(LeaseServiceTest, LeasesListsEveryGrantedLease) {
  etcdserverpb::LeaseGrantResponse granted;
  ASSERT_TRUE(Grant(30, 2, &granted).ok());
  ASSERT_TRUE(Grant(30, 1, &granted).ok());
  etcdserverpb::LeaseLeasesResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(lease_->LeaseLeases(&context, {}, &response).ok());
  ASSERT_EQ(response.leases_size(), 2);
  EXPECT_EQ(response.leases(0).id(), 1);
  EXPECT_EQ(response.leases(1).id(), 2);
  EXPECT_EQ(response.header().cluster_id(), TestBackend::kClusterId);
}

TEST_F(LeaseServiceTest, KeepAliveAnswersEachRequestInOrderWithTtlOrZero) {
  etcdserverpb::LeaseGrantResponse granted;
  ASSERT_TRUE(Grant(30, 0x77, &granted).ok());
  grpc::ClientContext context;
  auto stream = lease_->LeaseKeepAlive(&context);
  for (int64_t id : {0x77, 0x78, 0x77}) {
    etcdserverpb::LeaseKeepAliveRequest request;
    request.set_id(id);
    ASSERT_TRUE(stream->Write(request));
    etcdserverpb::LeaseKeepAliveResponse response;
    ASSERT_TRUE(stream->Read(&response));
    EXPECT_EQ(response.id(), id);
    EXPECT_EQ(response.ttl(), id == 0x77 ? 30 : 0) << "a missing lease answers TTL 0";
    EXPECT_EQ(response.header().member_id(), TestBackend::kMemberId);
  }
  ASSERT_TRUE(stream->WritesDone());
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(server_.backend().renewals(), 3);
}

// A member that does not lead: its backend answers "leader changed" for lease queries, and the
// member it names as leader serves clients at `leader`'s address.
void FollowLeaderAt(TestServer& follower, const TestServer& leader) {
  follower.backend().FailLeaseQueries(LeaderChangedError());
  follower.backend().SetClientUrl("http://" + leader.address());
}

ClientApiOptions ShortRequestTimeout() {
  ClientApiOptions options;
  options.request_timeout = absl::Milliseconds(500);
  return options;
}

grpc::Status KeepAliveOnce(etcdserverpb::Lease::Stub& lease, int64_t id,
                           etcdserverpb::LeaseKeepAliveResponse* response) {
  grpc::ClientContext context;
  auto stream = lease.LeaseKeepAlive(&context);
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(id);
  EXPECT_TRUE(stream->Write(request));
  stream->Read(response);
  stream->WritesDone();
  return stream->Finish();
}

TEST_F(LeaseServiceTest, KeepAliveOnAMemberThatDoesNotLeadIsAnsweredByTheLeader) {
  etcdserverpb::LeaseGrantResponse granted;
  ASSERT_TRUE(Grant(30, 0x77, &granted).ok());
  TestServer follower;
  FollowLeaderAt(follower, server_);
  auto follower_lease = etcdserverpb::Lease::NewStub(follower.NewChannel());

  etcdserverpb::LeaseKeepAliveResponse response;
  grpc::Status status = KeepAliveOnce(*follower_lease, 0x77, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.id(), 0x77);
  EXPECT_EQ(response.ttl(), 30) << "the lease exists only in the leader's store";
  EXPECT_EQ(server_.backend().renewals(), 1) << "renewed on the leader's clock";

  response.Clear();
  ASSERT_TRUE(KeepAliveOnce(*follower_lease, 0x78, &response).ok());
  EXPECT_EQ(response.ttl(), 0) << "a lease the leader does not have";
}

TEST_F(LeaseServiceTest, TimeToLiveOnAMemberThatDoesNotLeadIsAnsweredByTheLeader) {
  etcdserverpb::LeaseGrantResponse granted;
  ASSERT_TRUE(Grant(30, 0x77, &granted).ok());
  ASSERT_TRUE(Put("a", 0x77).ok());
  TestServer follower;
  FollowLeaderAt(follower, server_);
  auto follower_lease = etcdserverpb::Lease::NewStub(follower.NewChannel());

  etcdserverpb::LeaseTimeToLiveRequest request;
  request.set_id(0x77);
  request.set_keys(true);
  etcdserverpb::LeaseTimeToLiveResponse response;
  {
    grpc::ClientContext context;
    grpc::Status status = follower_lease->LeaseTimeToLive(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_EQ(response.id(), 0x77);
  EXPECT_EQ(response.ttl(), 30);
  EXPECT_EQ(response.grantedttl(), 30);
  EXPECT_THAT(response.keys(), ElementsAre("a"));

  request.set_id(0x78);
  response.Clear();
  grpc::ClientContext context;
  ASSERT_TRUE(follower_lease->LeaseTimeToLive(&context, request, &response).ok());
  EXPECT_EQ(response.ttl(), -1) << "a lease the leader does not have";
}

TEST_F(LeaseServiceTest, AForwardedKeepAliveIsNotForwardedAgainAndTimesOut) {
  // Two members that each believe the other leads: the forwarded call is answered "leader
  // changed" by the second, not sent back, and the first retries until its deadline.
  TestServer first(ShortRequestTimeout());
  TestServer second(ShortRequestTimeout());
  FollowLeaderAt(first, second);
  FollowLeaderAt(second, first);
  auto lease = etcdserverpb::Lease::NewStub(first.NewChannel());
  const absl::Time start = absl::Now();
  etcdserverpb::LeaseKeepAliveResponse response;
  grpc::Status status = KeepAliveOnce(*lease, 0x77, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(), "etcdserver: request timed out");
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_F(LeaseServiceTest, KeepAliveWithNoLeaderFailsWithNoLeaderAtTheDeadline) {
  TestServer follower(ShortRequestTimeout());
  follower.backend().FailLeaseQueries(LeaderChangedError());
  follower.backend().LoseLeader();
  auto lease = etcdserverpb::Lease::NewStub(follower.NewChannel());
  etcdserverpb::LeaseKeepAliveResponse response;
  grpc::Status status = KeepAliveOnce(*lease, 0x77, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(), "etcdserver: no leader");
}

TEST_F(LeaseServiceTest, AKeepAliveStreamTheClientAbandonsEndsCleanly) {
  etcdserverpb::LeaseGrantResponse granted;
  ASSERT_TRUE(Grant(30, 0x77, &granted).ok());
  auto context = std::make_unique<grpc::ClientContext>();
  auto stream = lease_->LeaseKeepAlive(context.get());
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(0x77);
  ASSERT_TRUE(stream->Write(request));
  context->TryCancel();
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // The server still answers others.
  etcdserverpb::LeaseGrantResponse other;
  EXPECT_TRUE(Grant(30, 0x78, &other).ok());
}

}  // namespace
}  // namespace raftkv::server::etcd
