// The etcd API services driven by a grpc++ client over loopback, against a single-member test
// Backend.
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "fmt/format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/etcd/test_backend.h"

namespace raftkv::server::etcd {
namespace {

using testing::TestBackend;
using testing::TestServer;

class EtcdServiceTest : public ::testing::Test {
 protected:
  EtcdServiceTest()
      : kv_(etcdserverpb::KV::NewStub(server_.NewChannel())),
        maintenance_(etcdserverpb::Maintenance::NewStub(server_.NewChannel())),
        cluster_(etcdserverpb::Cluster::NewStub(server_.NewChannel())) {}

  etcdserverpb::PutResponse Put(const std::string& key, const std::string& value) {
    etcdserverpb::PutRequest request;
    request.set_key(key);
    request.set_value(value);
    etcdserverpb::PutResponse response;
    grpc::ClientContext context;
    grpc::Status status = kv_->Put(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  grpc::Status Range(const etcdserverpb::RangeRequest& request,
                     etcdserverpb::RangeResponse* response) {
    grpc::ClientContext context;
    return kv_->Range(&context, request, response);
  }

  static void ExpectFullHeader(const etcdserverpb::ResponseHeader& header) {
    EXPECT_EQ(header.cluster_id(), TestBackend::kClusterId);
    EXPECT_EQ(header.member_id(), TestBackend::kMemberId);
    EXPECT_EQ(header.raft_term(), TestBackend::kTerm);
  }

  TestServer server_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance_;
  std::unique_ptr<etcdserverpb::Cluster::Stub> cluster_;
};

TEST_F(EtcdServiceTest, PutAnswersWithAFullHeaderAndTheNewRevision) {
  etcdserverpb::PutResponse response = Put("k", "v");
  ExpectFullHeader(response.header());
  EXPECT_EQ(response.header().revision(), 2);
}

TEST_F(EtcdServiceTest, RangeReturnsTheValueWithAFullHeader) {
  Put("k", "v");
  etcdserverpb::RangeRequest request;
  request.set_key("k");
  etcdserverpb::RangeResponse response;
  ASSERT_TRUE(Range(request, &response).ok());
  ASSERT_EQ(response.kvs_size(), 1);
  EXPECT_EQ(response.kvs(0).value(), "v");
  EXPECT_EQ(response.count(), 1);
  ExpectFullHeader(response.header());
  EXPECT_EQ(response.header().revision(), 2);
}

TEST_F(EtcdServiceTest, DefaultRangeIsLinearizable) {
  etcdserverpb::RangeRequest request;
  request.set_key("k");
  etcdserverpb::RangeResponse response;
  ASSERT_TRUE(Range(request, &response).ok());
  EXPECT_EQ(server_.backend().linearizable_waits(), 1);
}

TEST_F(EtcdServiceTest, SerializableRangeIsServedLocally) {
  etcdserverpb::RangeRequest request;
  request.set_key("k");
  request.set_serializable(true);
  etcdserverpb::RangeResponse response;
  ASSERT_TRUE(Range(request, &response).ok());
  EXPECT_EQ(server_.backend().linearizable_waits(), 0);
}

TEST_F(EtcdServiceTest, LinearizableRangeWithoutLeaderFailsWithEtcdsError) {
  server_.backend().FailLinearizableReads(NoLeaderError());
  etcdserverpb::RangeRequest request;
  request.set_key("k");
  etcdserverpb::RangeResponse response;
  grpc::Status status = Range(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(), "etcdserver: no leader");
}

TEST_F(EtcdServiceTest, BackendWriteErrorsReachTheClientUnchanged) {
  for (const absl::Status& error : {NoLeaderError(), LeaderChangedError(), TimeoutError(),
                                    TooManyRequestsError(), StoppedError()}) {
    server_.backend().FailWrites(error);
    etcdserverpb::PutRequest request;
    request.set_key("k");
    etcdserverpb::PutResponse response;
    grpc::ClientContext context;
    grpc::Status status = kv_->Put(&context, request, &response);
    EXPECT_EQ(static_cast<int>(status.error_code()), static_cast<int>(error.code()));
    EXPECT_EQ(status.error_message(), error.message());
  }
}

TEST_F(EtcdServiceTest, CanonicalBackendErrorsUseEtcdsCodes) {
  EXPECT_EQ(TooManyRequestsError().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(TimeoutError().message(), "etcdserver: request timed out");
  EXPECT_EQ(LeaderChangedError().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StoppedError().message(), "etcdserver: server stopped");
  EXPECT_EQ(NotLeaderError().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(EtcdServiceTest, EmptyKeyIsRejectedWithoutReplication) {
  etcdserverpb::PutRequest request;
  request.set_value("v");
  etcdserverpb::PutResponse response;
  grpc::ClientContext context;
  grpc::Status status = kv_->Put(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "etcdserver: key is not provided");
  EXPECT_EQ(server_.backend().writes(), 0);
}

TEST_F(EtcdServiceTest, PutWithALeaseIsLeaseNotFound) {
  etcdserverpb::PutRequest request;
  request.set_key("k");
  request.set_lease(0x1234);
  etcdserverpb::PutResponse response;
  grpc::ClientContext context;
  grpc::Status status = kv_->Put(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "etcdserver: requested lease not found");
}

TEST_F(EtcdServiceTest, OversizedRequestIsTooLarge) {
  etcdserverpb::PutRequest request;
  request.set_key("k");
  request.set_value(std::string(kMaxRequestBytes + 1, 'x'));
  etcdserverpb::PutResponse response;
  grpc::ClientContext context;
  grpc::Status status = kv_->Put(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "etcdserver: request is too large");
}

TEST_F(EtcdServiceTest, RequestJustUnderTheLimitIsAccepted) {
  const std::string value(kMaxRequestBytes - 64, 'x');
  EXPECT_EQ(Put("big", value).header().revision(), 2);
}

// etcd's --max-request-bytes and --max-txn-ops, set lower than their defaults.
TEST(EtcdServiceLimitsTest, ConfiguredRequestAndTxnLimitsApply) {
  ClientApiOptions options;
  options.limits.max_request_bytes = 1000;
  options.limits.max_txn_ops = 2;
  TestServer server(options);
  auto kv = etcdserverpb::KV::NewStub(server.NewChannel());

  etcdserverpb::PutRequest put;
  put.set_key("k");
  put.set_value(std::string(1001, 'x'));
  etcdserverpb::PutResponse put_response;
  grpc::ClientContext too_large;
  grpc::Status status = kv->Put(&too_large, put, &put_response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "etcdserver: request is too large");
  put.set_value(std::string(900, 'x'));
  grpc::ClientContext fits;
  EXPECT_TRUE(kv->Put(&fits, put, &put_response).ok());

  // Three operations in a branch: too many, whether the txn writes or only reads.
  for (bool writes : {true, false}) {
    etcdserverpb::TxnRequest txn;
    for (int i = 0; i < 3; ++i) {
      etcdserverpb::RequestOp* op = txn.add_success();
      if (writes) {
        op->mutable_request_put()->set_key("k" + std::to_string(i));
      } else {
        op->mutable_request_range()->set_key("k" + std::to_string(i));
      }
    }
    etcdserverpb::TxnResponse txn_response;
    grpc::ClientContext context;
    status = kv->Txn(&context, txn, &txn_response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << writes;
    EXPECT_EQ(status.error_message(), "etcdserver: too many operations in txn request");
    txn.mutable_success()->RemoveLast();
    grpc::ClientContext two;
    EXPECT_TRUE(kv->Txn(&two, txn, &txn_response).ok()) << writes;
  }
}

TEST_F(EtcdServiceTest, DeleteRangeWithPrevKvReturnsTheDeletedKeys) {
  Put("a/1", "one");
  Put("a/2", "two");
  etcdserverpb::DeleteRangeRequest request;
  request.set_key("a/");
  request.set_range_end("a0");
  request.set_prev_kv(true);
  etcdserverpb::DeleteRangeResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(kv_->DeleteRange(&context, request, &response).ok());
  EXPECT_EQ(response.deleted(), 2);
  ASSERT_EQ(response.prev_kvs_size(), 2);
  EXPECT_EQ(response.prev_kvs(1).value(), "two");
  ExpectFullHeader(response.header());
}

TEST_F(EtcdServiceTest, TxnHasAFullHeaderButSubResponsesOnlyARevision) {
  Put("k", "v");
  etcdserverpb::TxnRequest request;
  etcdserverpb::Compare* compare = request.add_compare();
  compare->set_key("k");
  compare->set_target(etcdserverpb::Compare::VALUE);
  compare->set_value("v");
  request.add_success()->mutable_request_put()->set_key("k2");
  request.add_success()->mutable_request_range()->set_key("k");
  etcdserverpb::TxnResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(kv_->Txn(&context, request, &response).ok());
  EXPECT_TRUE(response.succeeded());
  ExpectFullHeader(response.header());
  ASSERT_EQ(response.responses_size(), 2);
  const auto& sub = response.responses(0).response_put().header();
  EXPECT_EQ(sub.revision(), 3);
  EXPECT_EQ(sub.member_id(), 0u);
  EXPECT_EQ(response.responses(1).response_range().kvs(0).value(), "v");
}

TEST_F(EtcdServiceTest, ReadOnlyTxnIsALinearizableReadNotAWrite) {
  Put("k", "v");
  const int writes = server_.backend().writes();
  etcdserverpb::TxnRequest request;
  request.add_success()->mutable_request_range()->set_key("k");
  etcdserverpb::TxnResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(kv_->Txn(&context, request, &response).ok());
  EXPECT_EQ(server_.backend().writes(), writes);
  EXPECT_EQ(server_.backend().linearizable_waits(), 1);
  ExpectFullHeader(response.header());
  EXPECT_EQ(response.responses(0).response_range().kvs(0).value(), "v");
}

TEST_F(EtcdServiceTest, RangeAtACompactedRevisionIsOutOfRange) {
  Put("k", "1");
  Put("k", "2");
  Put("k", "3");
  etcdserverpb::CompactionRequest compact;
  compact.set_revision(3);
  etcdserverpb::CompactionResponse compacted;
  grpc::ClientContext compact_context;
  ASSERT_TRUE(kv_->Compact(&compact_context, compact, &compacted).ok());
  ExpectFullHeader(compacted.header());

  etcdserverpb::RangeRequest request;
  request.set_key("k");
  request.set_revision(2);
  etcdserverpb::RangeResponse response;
  grpc::Status status = Range(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(status.error_message(), "etcdserver: mvcc: required revision has been compacted");
}

TEST_F(EtcdServiceTest, CompactingTheFutureIsOutOfRange) {
  etcdserverpb::CompactionRequest request;
  request.set_revision(100);
  etcdserverpb::CompactionResponse response;
  grpc::ClientContext context;
  grpc::Status status = kv_->Compact(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(status.error_message(), "etcdserver: mvcc: required revision is a future revision");
}

TEST_F(EtcdServiceTest, StatusReportsTheRaftState) {
  Put("k", "v");
  etcdserverpb::StatusResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(maintenance_->Status(&context, {}, &response).ok());
  ExpectFullHeader(response.header());
  EXPECT_EQ(response.header().revision(), 2);
  EXPECT_EQ(response.version(), "3.4.0");
  EXPECT_EQ(response.leader(), TestBackend::kMemberId);
  EXPECT_EQ(response.raftterm(), TestBackend::kTerm);
  EXPECT_EQ(response.raftappliedindex(), 1u);
  EXPECT_EQ(response.raftindex(), 2u);  // the commit index, not the applied one
  EXPECT_GT(response.dbsize(), 0);
  EXPECT_TRUE(response.errors().empty());
  EXPECT_FALSE(response.islearner());
}

TEST_F(EtcdServiceTest, StatusWithoutLeaderSaysSo) {
  server_.backend().LoseLeader();
  etcdserverpb::StatusResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(maintenance_->Status(&context, {}, &response).ok());
  EXPECT_EQ(response.leader(), 0u);
  EXPECT_THAT(response.errors(), ::testing::ElementsAre("etcdserver: no leader"));
}

TEST_F(EtcdServiceTest, AlarmGetIsAnEmptyList) {
  etcdserverpb::AlarmRequest request;
  request.set_action(etcdserverpb::AlarmRequest::GET);
  etcdserverpb::AlarmResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(maintenance_->Alarm(&context, request, &response).ok());
  EXPECT_TRUE(response.alarms().empty());
  ExpectFullHeader(response.header());
}

grpc::Status CallAlarm(etcdserverpb::Maintenance::Stub& stub,
                       etcdserverpb::AlarmRequest::AlarmAction action, uint64_t member,
                       etcdserverpb::AlarmType type, etcdserverpb::AlarmResponse* response) {
  etcdserverpb::AlarmRequest request;
  request.set_action(action);
  request.set_memberid(member);
  request.set_alarm(type);
  grpc::ClientContext context;
  return stub.Alarm(&context, request, response);
}

TEST_F(EtcdServiceTest, UnderNospacePutsAndTxnsWithPutsAreRefusedWithEtcdsErrorUntilDisarmed) {
  Put("k", "v");
  etcdserverpb::AlarmResponse raised;
  ASSERT_TRUE(CallAlarm(*maintenance_, etcdserverpb::AlarmRequest::ACTIVATE, TestBackend::kMemberId,
                        etcdserverpb::NOSPACE, &raised)
                  .ok());
  ASSERT_EQ(raised.alarms_size(), 1);
  EXPECT_EQ(raised.alarms(0).memberid(), TestBackend::kMemberId);
  EXPECT_EQ(raised.alarms(0).alarm(), etcdserverpb::NOSPACE);
  ExpectFullHeader(raised.header());

  etcdserverpb::AlarmResponse listed;
  ASSERT_TRUE(
      CallAlarm(*maintenance_, etcdserverpb::AlarmRequest::GET, 0, etcdserverpb::NONE, &listed)
          .ok());
  ASSERT_EQ(listed.alarms_size(), 1);
  EXPECT_EQ(listed.alarms(0).memberid(), TestBackend::kMemberId);

  etcdserverpb::PutRequest put;
  put.set_key("k2");
  put.set_value("v");
  etcdserverpb::PutResponse put_response;
  grpc::ClientContext put_context;
  const grpc::Status refused = kv_->Put(&put_context, put, &put_response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(refused.error_message(), "etcdserver: mvcc: database space exceeded");

  etcdserverpb::TxnRequest txn;
  *txn.add_success()->mutable_request_put() = put;
  etcdserverpb::TxnResponse txn_response;
  grpc::ClientContext txn_context;
  EXPECT_EQ(kv_->Txn(&txn_context, txn, &txn_response).error_message(),
            "etcdserver: mvcc: database space exceeded");

  // Deletes still work.
  etcdserverpb::DeleteRangeRequest del;
  del.set_key("k");
  etcdserverpb::DeleteRangeResponse del_response;
  grpc::ClientContext del_context;
  ASSERT_TRUE(kv_->DeleteRange(&del_context, del, &del_response).ok());
  EXPECT_EQ(del_response.deleted(), 1);

  etcdserverpb::AlarmResponse disarmed;
  ASSERT_TRUE(CallAlarm(*maintenance_, etcdserverpb::AlarmRequest::DEACTIVATE,
                        TestBackend::kMemberId, etcdserverpb::NOSPACE, &disarmed)
                  .ok());
  EXPECT_EQ(disarmed.alarms_size(), 1);
  Put("k2", "v");
}

TEST_F(EtcdServiceTest, AlarmActivateIsRefusedForAnUnknownMemberOrAnotherAlarm) {
  etcdserverpb::AlarmResponse response;
  const grpc::Status unknown = CallAlarm(*maintenance_, etcdserverpb::AlarmRequest::ACTIVATE, 0x999,
                                         etcdserverpb::NOSPACE, &response);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(unknown.error_message(), "etcdserver: member not found");
  const grpc::Status corrupt = CallAlarm(*maintenance_, etcdserverpb::AlarmRequest::ACTIVATE,
                                         TestBackend::kMemberId, etcdserverpb::CORRUPT, &response);
  EXPECT_EQ(corrupt.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(server_.backend().writes(), 0) << "refused before reaching the log";
}

TEST_F(EtcdServiceTest, AlarmPassesTheBackendsErrorThrough) {
  server_.backend().FailWrites(absl::UnavailableError("etcdserver: no leader"));
  etcdserverpb::AlarmResponse response;
  const grpc::Status status =
      CallAlarm(*maintenance_, etcdserverpb::AlarmRequest::GET, 0, etcdserverpb::NONE, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(), "etcdserver: no leader");
}

TEST_F(EtcdServiceTest, DefragmentAnswersWithAHeader) {
  etcdserverpb::DefragmentResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(maintenance_->Defragment(&context, {}, &response).ok());
  ExpectFullHeader(response.header());
}

TEST_F(EtcdServiceTest, HashKVMatchesTheStoreAndChangesWithIt) {
  Put("k", "v");
  etcdserverpb::HashKVResponse first;
  grpc::ClientContext first_context;
  ASSERT_TRUE(maintenance_->HashKV(&first_context, {}, &first).ok());
  uint32_t expected = 0;
  server_.backend().Read([&](const kv::Store& store) { expected = store.HashKV(0)->hash; });
  EXPECT_EQ(first.hash(), expected);
  Put("k", "w");
  etcdserverpb::HashKVResponse second;
  grpc::ClientContext second_context;
  ASSERT_TRUE(maintenance_->HashKV(&second_context, {}, &second).ok());
  EXPECT_NE(second.hash(), first.hash());
}

TEST_F(EtcdServiceTest, MemberListListsEveryMember) {
  etcdserverpb::MemberListResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(cluster_->MemberList(&context, {}, &response).ok());
  EXPECT_EQ(response.header().cluster_id(), TestBackend::kClusterId);
  ASSERT_EQ(response.members_size(), 2);
  EXPECT_EQ(response.members(0).id(), TestBackend::kMemberId);
  EXPECT_EQ(response.members(0).name(), "infra0");
  EXPECT_THAT(response.members(0).peerurls(), ::testing::ElementsAre("http://127.0.0.1:2380"));
  EXPECT_THAT(response.members(0).clienturls(),
              ::testing::ElementsAre("http://" + server_.address()));
  EXPECT_EQ(response.members(1).name(), "");  // not started yet
}

TEST_F(EtcdServiceTest, ConcurrentClientsEachGetTheirOwnRevision) {
  constexpr int kThreads = 4;
  constexpr int kPutsPerThread = 25;
  std::vector<std::vector<int64_t>> revisions(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto stub = etcdserverpb::KV::NewStub(server_.NewChannel());
      for (int i = 0; i < kPutsPerThread; ++i) {
        etcdserverpb::PutRequest request;
        request.set_key(fmt::format("t{}/{}", t, i));
        etcdserverpb::PutResponse response;
        grpc::ClientContext context;
        if (stub->Put(&context, request, &response).ok()) {
          revisions[t].push_back(response.header().revision());
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::set<int64_t> distinct;
  for (const auto& per_thread : revisions) distinct.insert(per_thread.begin(), per_thread.end());
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kThreads * kPutsPerThread));
  EXPECT_EQ(*distinct.rbegin(), 1 + kThreads * kPutsPerThread);
}

TEST_F(EtcdServiceTest, UnservedMethodOfAServedServiceIsUnimplemented) {
  auto maintenance = etcdserverpb::Maintenance::NewStub(server_.NewChannel());
  etcdserverpb::HashRequest request;
  etcdserverpb::HashResponse response;
  grpc::ClientContext context;
  EXPECT_EQ(maintenance->Hash(&context, request, &response).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(EtcdServiceTest, MembershipChangeOfABackendWithoutOneIsUnimplemented) {
  etcdserverpb::MemberAddRequest request;
  request.add_peerurls("http://127.0.0.1:2400");
  etcdserverpb::MemberAddResponse response;
  grpc::ClientContext context;
  EXPECT_EQ(cluster_->MemberAdd(&context, request, &response).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

}  // namespace
}  // namespace raftkv::server::etcd
