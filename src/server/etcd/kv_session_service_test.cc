// Exactly-once writes through the KV service: the `raftkv-client-id` and `raftkv-sequence`
// metadata of Put, DeleteRange and Txn reach the replicated request with the member's time, a
// retried call is answered from the session, malformed metadata is refused before replication,
// and calls without the metadata are replicated exactly as before. Driven by a grpc++ client
// over loopback against the single-member test Backend.
#include <string>
#include <vector>

#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kv/session.h"
#include "server/etcd/session_metadata.h"
#include "server/etcd/test_backend.h"

namespace raftkv::server::etcd {
namespace {

using ::testing::HasSubstr;
using testing::TestBackend;
using testing::TestServer;

// The metadata a client attaches: key and value, in order.
using Metadata = std::vector<std::pair<std::string, std::string>>;

Metadata Session(uint64_t client, uint64_t sequence) {
  return {{kClientIdMetadata, std::to_string(client)},
          {kSequenceMetadata, std::to_string(sequence)}};
}

class KvSessionServiceTest : public ::testing::Test {
 protected:
  KvSessionServiceTest() : kv_(etcdserverpb::KV::NewStub(server_.NewChannel())) {}

  grpc::Status Put(const std::string& key, const std::string& value, const Metadata& metadata,
                   etcdserverpb::PutResponse* response) {
    etcdserverpb::PutRequest request;
    request.set_key(key);
    request.set_value(value);
    grpc::ClientContext context;
    for (const auto& [k, v] : metadata) context.AddMetadata(k, v);
    return kv_->Put(&context, request, response);
  }

  grpc::Status Put(const Metadata& metadata) {
    etcdserverpb::PutResponse response;
    return Put("k", "v", metadata, &response);
  }

  TestServer server_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
};

TEST_F(KvSessionServiceTest, TheSessionTagAndTheMembersTimeReachTheReplicatedPut) {
  const int64_t before = absl::ToUnixMillis(absl::Now());
  ASSERT_TRUE(Put(Session(18446744073709551615u, 1)).ok());
  const int64_t after = absl::ToUnixMillis(absl::Now());
  const kvpb::Request request = server_.backend().last_request();
  EXPECT_EQ(request.client_id(), 18446744073709551615u);
  EXPECT_EQ(request.sequence(), 1u);
  EXPECT_GE(request.time_ms(), before);
  EXPECT_LE(request.time_ms(), after);
}

TEST_F(KvSessionServiceTest, ARetriedPutIsAnsweredWithTheFirstAnswerAndAppliedOnce) {
  etcdserverpb::PutResponse first;
  ASSERT_TRUE(Put("k", "v", Session(42, 1), &first).ok());
  etcdserverpb::PutResponse retry;
  ASSERT_TRUE(Put("k", "v", Session(42, 1), &retry).ok());
  EXPECT_EQ(retry.header().revision(), first.header().revision());
  EXPECT_EQ(server_.backend().revision(), first.header().revision());
  EXPECT_EQ(retry.header().member_id(), TestBackend::kMemberId);  // still a full header
  // Both calls were replicated; the store answered the second from the session.
  EXPECT_EQ(server_.backend().writes(), 2);
}

TEST_F(KvSessionServiceTest, WithoutTheMetadataThePutIsReplicatedAsBeforeAndAppliesEachTime) {
  etcdserverpb::PutResponse first;
  ASSERT_TRUE(Put("k", "v", {}, &first).ok());
  const kvpb::Request request = server_.backend().last_request();
  EXPECT_EQ(request.client_id(), 0u);
  EXPECT_EQ(request.sequence(), 0u);
  EXPECT_EQ(request.time_ms(), 0);
  etcdserverpb::PutResponse second;
  ASSERT_TRUE(Put("k", "v", {}, &second).ok());
  EXPECT_EQ(second.header().revision(), first.header().revision() + 1);
}

TEST_F(KvSessionServiceTest, DeleteRangeAndTxnCarryTheSessionToo) {
  ASSERT_TRUE(Put({}).ok());
  etcdserverpb::DeleteRangeRequest del;
  del.set_key("k");
  for (int attempt = 0; attempt < 2; ++attempt) {
    grpc::ClientContext context;
    for (const auto& [k, v] : Session(5, 1)) context.AddMetadata(k, v);
    etcdserverpb::DeleteRangeResponse response;
    ASSERT_TRUE(kv_->DeleteRange(&context, del, &response).ok());
    EXPECT_EQ(response.deleted(), 1) << "attempt " << attempt;  // the first answer, twice
  }
  EXPECT_EQ(server_.backend().last_request().sequence(), 1u);

  etcdserverpb::TxnRequest txn;
  txn.add_success()->mutable_request_put()->set_key("t");
  std::vector<int64_t> revisions;
  for (int attempt = 0; attempt < 2; ++attempt) {
    grpc::ClientContext context;
    for (const auto& [k, v] : Session(5, 2)) context.AddMetadata(k, v);
    etcdserverpb::TxnResponse response;
    ASSERT_TRUE(kv_->Txn(&context, txn, &response).ok());
    revisions.push_back(response.header().revision());
  }
  EXPECT_EQ(revisions[1], revisions[0]);
  EXPECT_EQ(server_.backend().revision(), revisions[0]);
  EXPECT_EQ(server_.backend().last_request().client_id(), 5u);
}

TEST_F(KvSessionServiceTest, AReadOnlyTxnWithTheMetadataIsStillServedAsARead) {
  etcdserverpb::TxnRequest txn;
  txn.add_success()->mutable_request_range()->set_key("k");
  grpc::ClientContext context;
  for (const auto& [k, v] : Session(5, 1)) context.AddMetadata(k, v);
  etcdserverpb::TxnResponse response;
  ASSERT_TRUE(kv_->Txn(&context, txn, &response).ok());
  EXPECT_EQ(server_.backend().writes(), 0);
}

TEST_F(KvSessionServiceTest, AStaleSequenceIsRefusedWithTheStoresError) {
  ASSERT_TRUE(Put(Session(9, 1)).ok());
  ASSERT_TRUE(Put(Session(9, 2)).ok());
  const grpc::Status stale = Put(Session(9, 1));
  EXPECT_EQ(stale.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(stale.error_message(), kv::StaleSequenceError(9, 1, 2).message());
}

TEST_F(KvSessionServiceTest, MalformedMetadataIsInvalidArgumentAndNothingIsReplicated) {
  struct Case {
    Metadata metadata;
    std::string message;
  };
  const std::string want_number = " must be a decimal number from 1 to 18446744073709551615";
  const std::vector<Case> cases = {
      {{{kClientIdMetadata, "abc"}, {kSequenceMetadata, "1"}},
       std::string("raftkv: metadata raftkv-client-id") + want_number + ", not \"abc\""},
      {{{kClientIdMetadata, "1"}, {kSequenceMetadata, "-1"}},
       std::string("raftkv: metadata raftkv-sequence") + want_number + ", not \"-1\""},
      {{{kClientIdMetadata, "0x10"}, {kSequenceMetadata, "1"}}, "not \"0x10\""},
      {{{kClientIdMetadata, " 1"}, {kSequenceMetadata, "1"}}, "not \" 1\""},
      {{{kClientIdMetadata, "1"}, {kSequenceMetadata, ""}}, "not \"\""},
      {{{kClientIdMetadata, "0"}, {kSequenceMetadata, "1"}}, "not \"0\""},
      {{{kClientIdMetadata, "1"}, {kSequenceMetadata, "0"}}, "not \"0\""},
      {{{kClientIdMetadata, "18446744073709551616"}, {kSequenceMetadata, "1"}},
       "not \"18446744073709551616\""},
      {{{kClientIdMetadata, std::string(100, '9')}, {kSequenceMetadata, "1"}},
       "not \"" + std::string(32, '9') + "...\""},
      {{{kClientIdMetadata, "1"}},
       "raftkv: metadata raftkv-client-id and raftkv-sequence go together; only "
       "raftkv-client-id was given"},
      {{{kSequenceMetadata, "1"}}, "only raftkv-sequence was given"},
      {{{kClientIdMetadata, "1"}, {kClientIdMetadata, "2"}, {kSequenceMetadata, "1"}},
       "raftkv: metadata raftkv-client-id given twice"},
  };
  for (const Case& c : cases) {
    const grpc::Status status = Put(c.metadata);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.message;
    EXPECT_THAT(status.error_message(), HasSubstr(c.message));
  }
  EXPECT_EQ(server_.backend().writes(), 0);
}

TEST_F(KvSessionServiceTest, TheLargestClientIdAndSequenceAreAccepted) {
  EXPECT_TRUE(Put({{kClientIdMetadata, "18446744073709551615"}, {kSequenceMetadata, "1"}}).ok());
  EXPECT_TRUE(Put({{kClientIdMetadata, "18446744073709551615"},
                   {kSequenceMetadata, "18446744073709551615"}})
                  .ok());
  EXPECT_EQ(server_.backend().last_request().sequence(), 18446744073709551615u);
}

}  // namespace
}  // namespace raftkv::server::etcd
