// Client sessions (kv/session.h): a request with a client id and a sequence applies once; its
// copies get the first answer; older sequences are refused; sessions expire by log time and stay
// within their bounds.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kv/errors.h"
#include "kv/session.h"
#include "kv/store_test_util.h"

namespace raftkv::kv {
namespace {

using testing::DelReq;
using ::testing::HasSubstr;
using testing::PutReq;
using testing::RangeOp;
using testing::StoreDriver;
using testing::Wrap;

constexpr uint64_t kClient = 0xC11E47;
constexpr int64_t kStart = 1'700'000'000'000;  // a unix time in ms

// `request` as a client with a session sends it: client id, sequence and the proposer's stamp.
kvpb::Request InSession(kvpb::Request request, uint64_t client, uint64_t sequence,
                        int64_t time_ms = kStart) {
  request.set_client_id(client);
  request.set_sequence(sequence);
  request.set_time_ms(time_ms);
  return request;
}

kvpb::Request SessionPut(const std::string& key, const std::string& value, uint64_t sequence,
                         int64_t time_ms = kStart, uint64_t client = kClient) {
  return InSession(Wrap(PutReq(key, value)), client, sequence, time_ms);
}

// A request that changes no key (deleting a key that is absent), so that the only state a
// session request leaves is the session.
kvpb::Request SessionNoop(uint64_t client, uint64_t sequence, int64_t time_ms = kStart) {
  return InSession(Wrap(DelReq("absent")), client, sequence, time_ms);
}

std::string Answer(const absl::StatusOr<kvpb::Response>& answer) {
  if (!answer.ok()) return "error: " + answer.status().ToString();
  kvpb::Response response = *answer;
  response.clear_id();
  return response.ShortDebugString();
}

// A read-only txn whose answer carries `key`'s value: a session answer as large as that value,
// without the store growing by it.
kvpb::Request SessionRead(const std::string& key, uint64_t client, uint64_t sequence,
                          int64_t time_ms) {
  etcdserverpb::TxnRequest txn;
  *txn.add_success() = RangeOp(key);
  return InSession(Wrap(txn), client, sequence, time_ms);
}

TEST(StoreSession, TwoCopiesOfARequestInTheLogApplyOnceAndBothGetTheFirstAnswer) {
  StoreDriver d;
  // The original and a client's retry, both proposed: whichever applies second is a duplicate.
  const absl::StatusOr<kvpb::Response> first = d.Apply(SessionPut("k", "v", 1));
  ASSERT_TRUE(first.ok()) << first.status();
  const int64_t revision = d.store().revision();
  const uint64_t applied = d.store().applied_index();

  const absl::StatusOr<kvpb::Response> second = d.Apply(SessionPut("k", "v", 1));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(Answer(second), Answer(first));
  EXPECT_EQ(second->put().header().revision(), first->put().header().revision());
  EXPECT_EQ(d.store().revision(), revision);
  EXPECT_EQ(d.GetOne("k").version(), 1);
  EXPECT_EQ(d.store().applied_index(), applied + 1);
}

TEST(StoreSession, ARetryAfterOtherWritesGetsTheFirstAnswerNotTheCurrentState) {
  StoreDriver d;
  const absl::StatusOr<kvpb::Response> first = d.Apply(SessionPut("k", "mine", 1));
  ASSERT_TRUE(first.ok());
  d.Put("k", "someone else's");
  const int64_t revision = d.store().revision();

  const absl::StatusOr<kvpb::Response> retry = d.Apply(SessionPut("k", "mine", 1));
  EXPECT_EQ(Answer(retry), Answer(first));
  EXPECT_EQ(d.store().revision(), revision);
  EXPECT_EQ(d.GetOne("k").value(), "someone else's");
}

TEST(StoreSession, AReplayCarriesTheRequestIdOfTheCopyItAnswers) {
  StoreDriver d;
  kvpb::Request original = SessionPut("k", "v", 1);
  original.set_id(11);
  ASSERT_EQ(d.Apply(original)->id(), 11u);
  kvpb::Request retry = SessionPut("k", "v", 1);
  retry.set_id(12);
  EXPECT_EQ(d.Apply(retry)->id(), 12u);
}

TEST(StoreSession, DeleteRangeAndTxnRepliesAreRememberedToo) {
  StoreDriver d;
  d.Put("a", "1");
  d.Put("b", "2");
  kvpb::Request del = InSession(Wrap(DelReq("a", "c")), kClient, 1);
  const absl::StatusOr<kvpb::Response> deleted = d.Apply(del);
  ASSERT_EQ(deleted->delete_range().deleted(), 2);
  d.Put("a", "again");
  EXPECT_EQ(Answer(d.Apply(del)), Answer(deleted));
  EXPECT_EQ(d.GetOne("a").value(), "again");

  etcdserverpb::TxnRequest txn;
  *txn.add_success() = testing::PutOp("t", "x");
  kvpb::Request put_txn = InSession(Wrap(txn), kClient, 2);
  const absl::StatusOr<kvpb::Response> applied = d.Apply(put_txn);
  ASSERT_TRUE(applied.ok());
  const int64_t revision = d.store().revision();
  EXPECT_EQ(Answer(d.Apply(put_txn)), Answer(applied));
  EXPECT_EQ(d.store().revision(), revision);
  EXPECT_EQ(d.GetOne("t").version(), 1);
}

TEST(StoreSession, AnErrorIsRememberedAndAnsweredAgainEvenOnceTheRequestWouldSucceed) {
  StoreDriver d;
  etcdserverpb::PutRequest keep_value = PutReq("k", "");
  keep_value.set_ignore_value(true);  // fails while k is absent
  const kvpb::Request request = InSession(Wrap(keep_value), kClient, 1);
  const absl::StatusOr<kvpb::Response> refused = d.Apply(request);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status(), KeyNotFoundError());
  d.Put("k", "now present");
  const int64_t revision = d.store().revision();

  EXPECT_EQ(d.Apply(request).status(), KeyNotFoundError());
  EXPECT_EQ(d.store().revision(), revision);
}

TEST(StoreSession, ALowerSequenceIsRefusedAndNotApplied) {
  StoreDriver d;
  ASSERT_TRUE(d.Apply(SessionPut("k", "one", 1)).ok());
  ASSERT_TRUE(d.Apply(SessionPut("k", "two", 2)).ok());
  const int64_t revision = d.store().revision();

  const absl::StatusOr<kvpb::Response> late = d.Apply(SessionPut("k", "one", 1));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(late.status().message(), HasSubstr("raftkv: stale sequence"));
  EXPECT_EQ(late.status(), StaleSequenceError(kClient, 1, 2));
  EXPECT_EQ(d.store().revision(), revision);
  EXPECT_EQ(d.GetOne("k").value(), "two");
  EXPECT_EQ(d.store().SessionSequence(kClient), 2u);
}

TEST(StoreSession, AHigherSequenceAppliesAndItsAnswerReplacesTheRememberedOne) {
  StoreDriver d;
  ASSERT_TRUE(d.Apply(SessionPut("k", "one", 1)).ok());
  // Sequences may skip (a client's read-only txns use some without reaching the log).
  const absl::StatusOr<kvpb::Response> third = d.Apply(SessionPut("k", "three", 3));
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(d.GetOne("k").value(), "three");
  EXPECT_EQ(d.GetOne("k").version(), 2);
  EXPECT_EQ(Answer(d.Apply(SessionPut("k", "three", 3))), Answer(third));
  EXPECT_EQ(d.store().SessionSequence(kClient), 3u);
}

TEST(StoreSession, SessionsOfDifferentClientsAreIndependent) {
  StoreDriver d;
  ASSERT_TRUE(d.Apply(SessionPut("k", "a1", 1, kStart, /*client=*/1)).ok());
  ASSERT_TRUE(d.Apply(SessionPut("k", "b1", 1, kStart, /*client=*/2)).ok());
  ASSERT_TRUE(d.Apply(SessionPut("k", "b2", 2, kStart, /*client=*/2)).ok());
  // Client 1 is still at sequence 1: its own next sequence applies.
  ASSERT_TRUE(d.Apply(SessionPut("k", "a2", 2, kStart, /*client=*/1)).ok());
  EXPECT_EQ(d.GetOne("k").value(), "a2");
  EXPECT_EQ(d.store().session_count(), 2u);
}

TEST(StoreSession, AClientWithoutASessionMustStartAtSequenceOne) {
  StoreDriver d;
  const absl::StatusOr<kvpb::Response> answer = d.Apply(SessionPut("k", "v", 5));
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(answer.status().message(), HasSubstr("raftkv: session not found"));
  EXPECT_EQ(answer.status(), SessionNotFoundError(kClient, 5));
  EXPECT_EQ(d.store().revision(), 1);
  EXPECT_EQ(d.store().session_count(), 0u);
}

TEST(StoreSession, AClientIdWithoutASequenceIsInvalid) {
  StoreDriver d;
  EXPECT_EQ(d.Apply(SessionPut("k", "v", 0)).status(), MissingSequenceError());
  EXPECT_EQ(d.store().revision(), 1);
}

TEST(StoreSession, WithoutAClientIdEveryCopyApplies) {
  StoreDriver d;
  const kvpb::Request plain = Wrap(PutReq("k", "v"));
  ASSERT_TRUE(d.Apply(plain).ok());
  ASSERT_TRUE(d.Apply(plain).ok());
  EXPECT_EQ(d.store().revision(), 3);
  EXPECT_EQ(d.GetOne("k").version(), 2);
  EXPECT_EQ(d.store().session_count(), 0u);
  EXPECT_EQ(d.store().log_clock_ms(), 0);
}

TEST(StoreSession, TheLogClockIsTheLargestStampAppliedAndNeverGoesBack) {
  StoreDriver d;
  ASSERT_TRUE(d.Apply(SessionNoop(1, 1, kStart + 5000)).ok());
  // A proposer whose clock is behind.
  ASSERT_TRUE(d.Apply(SessionNoop(2, 1, kStart + 3000)).ok());
  EXPECT_EQ(d.store().log_clock_ms(), kStart + 5000);
  // Requests without a session carry no stamp and leave the clock alone.
  d.Put("k", "v");
  EXPECT_EQ(d.store().log_clock_ms(), kStart + 5000);
}

TEST(StoreSession, ASessionIdleForLongerThanTheTtlInLogTimeIsDropped) {
  StoreDriver d;
  ASSERT_TRUE(d.Apply(SessionPut("k", "v", 1, kStart)).ok());
  // Exactly the TTL later the session is still there ...
  ASSERT_TRUE(d.Apply(SessionNoop(2, 1, kStart + kSessionTtlMs)).ok());
  EXPECT_EQ(d.store().SessionSequence(kClient), 1u);
  // ... and one millisecond later it is dropped, when the next request with a session applies.
  ASSERT_TRUE(d.Apply(SessionNoop(2, 2, kStart + kSessionTtlMs + 1)).ok());
  EXPECT_EQ(d.store().SessionSequence(kClient), std::nullopt);
  EXPECT_EQ(d.store().session_count(), 1u);

  // The client's next write no longer has a session to continue.
  const int64_t revision = d.store().revision();
  EXPECT_EQ(d.Apply(SessionPut("k", "w", 2, kStart + kSessionTtlMs + 2)).status(),
            SessionNotFoundError(kClient, 2));
  EXPECT_EQ(d.store().revision(), revision);
}

TEST(StoreSession, ARequestRefreshesItsSessionsLastUseAndARetryCountsAsOne) {
  StoreDriver d;
  ASSERT_TRUE(d.Apply(SessionPut("k", "v", 1, kStart)).ok());
  // A retry half a TTL later keeps the session alive for a TTL from then.
  ASSERT_TRUE(d.Apply(SessionPut("k", "v", 1, kStart + kSessionTtlMs / 2)).ok());
  ASSERT_TRUE(d.Apply(SessionNoop(2, 1, kStart + kSessionTtlMs + 1)).ok());
  EXPECT_EQ(d.store().SessionSequence(kClient), 1u);
  ASSERT_TRUE(d.Apply(SessionNoop(2, 2, kStart + kSessionTtlMs / 2 + kSessionTtlMs + 1)).ok());
  EXPECT_EQ(d.store().SessionSequence(kClient), std::nullopt);
}

TEST(StoreSession, NoMoreThanMaxSessionsAreKeptAndTheLeastRecentlyUsedIsEvicted) {
  StoreDriver d;
  // Every client starts its session at the same log time, the largest ids first; then client 1
  // is used again, later. Least recently used is the smallest last use, then the smallest id:
  // client 2, although client 1 has the smaller id and client kMaxSessions started first.
  for (uint64_t client = kMaxSessions; client >= 1; --client) {
    ASSERT_TRUE(d.Apply(SessionNoop(client, 1, kStart)).ok());
  }
  ASSERT_EQ(d.store().session_count(), kMaxSessions);
  ASSERT_TRUE(d.Apply(SessionNoop(1, 2, kStart + 1)).ok());
  ASSERT_EQ(d.store().session_count(), kMaxSessions);

  ASSERT_TRUE(d.Apply(SessionNoop(kMaxSessions + 1, 1, kStart + 2)).ok());
  EXPECT_EQ(d.store().session_count(), kMaxSessions);
  EXPECT_EQ(d.store().SessionSequence(2), std::nullopt);
  EXPECT_EQ(d.store().SessionSequence(1), 2u);
  EXPECT_EQ(d.store().SessionSequence(3), 1u);
  EXPECT_EQ(d.store().SessionSequence(kMaxSessions), 1u);
  EXPECT_EQ(d.store().SessionSequence(kMaxSessions + 1), 1u);
}

TEST(StoreSession, AnAnswerTooLargeToRememberIsSentOnceAndItsRetriesGetAnError) {
  StoreDriver d;
  d.Put("big", std::string(kMaxRememberedAnswerBytes, 'x'));
  const kvpb::Request read = SessionRead("big", kClient, 1, kStart);
  const absl::StatusOr<kvpb::Response> first = d.Apply(read);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->txn().responses(0).response_range().kvs(0).value().size(),
            kMaxRememberedAnswerBytes);

  const absl::StatusOr<kvpb::Response> retry = d.Apply(read);
  EXPECT_EQ(retry.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(retry.status().message(), HasSubstr("raftkv: answer too large to remember"));
  EXPECT_THAT(retry.status().message(), HasSubstr("was applied"));
  // What is kept is the error, not the answer.
  EXPECT_LT(d.store().session_bytes(), static_cast<int64_t>(kMaxRememberedAnswerBytes));
}

TEST(StoreSession, SessionsTogetherStayWithinTheirByteBoundByEvictingTheLeastRecentlyUsed) {
  StoreDriver d;
  // Answers just under the per-answer limit, so that each session is remembered whole.
  d.Put("big", std::string(kMaxRememberedAnswerBytes - 200, 'x'));
  const absl::StatusOr<kvpb::Response> probe = d.Apply(SessionRead("big", 1, 1, kStart));
  ASSERT_TRUE(probe.ok());
  const int64_t per_session = d.store().session_bytes();
  ASSERT_GT(per_session, static_cast<int64_t>(kMaxRememberedAnswerBytes) - 200);
  const uint64_t fit = static_cast<uint64_t>(kMaxSessionBytes / per_session);

  absl::StatusOr<kvpb::Response> last;
  for (uint64_t client = 2; client <= fit + 10; ++client) {
    last = d.Apply(SessionRead("big", client, 1, kStart + static_cast<int64_t>(client)));
    ASSERT_TRUE(last.ok());
    ASSERT_LE(d.store().session_bytes(), kMaxSessionBytes) << "after client " << client;
  }
  EXPECT_EQ(d.store().session_count(), fit);
  // The first clients made room for the last ones.
  EXPECT_EQ(d.store().SessionSequence(1), std::nullopt);
  EXPECT_EQ(d.store().SessionSequence(10), std::nullopt);
  EXPECT_EQ(d.store().SessionSequence(fit + 10), 1u);
  EXPECT_EQ(Answer(d.Apply(SessionRead("big", fit + 10, 1, kStart + fit + 11))), Answer(last));
}

TEST(StoreSession, SessionsCountInTheStoreSize) {
  StoreDriver d;
  d.Put("k", "v");
  const int64_t before = d.store().size_bytes();
  ASSERT_TRUE(d.Apply(SessionNoop(1, 1, kStart)).ok());
  EXPECT_GT(d.store().session_bytes(), 0);
  EXPECT_EQ(d.store().size_bytes(), before + d.store().session_bytes());
  // Expiry gives the bytes back (and the session that expires client 1 is charged instead).
  ASSERT_TRUE(d.Apply(SessionNoop(2, 1, kStart + kSessionTtlMs + 1)).ok());
  EXPECT_EQ(d.store().session_count(), 1u);
  EXPECT_EQ(d.store().size_bytes(), before + d.store().session_bytes());
}

TEST(StoreSession, HashKvCoversTheKeysOnlyNotTheSessions) {
  StoreDriver plain;
  StoreDriver with_sessions;
  plain.Put("k", "v");
  plain.Put("l", "w");
  ASSERT_TRUE(with_sessions.Apply(SessionPut("k", "v", 1)).ok());
  ASSERT_TRUE(with_sessions.Apply(SessionPut("k", "v", 1)).ok());  // a duplicate
  ASSERT_TRUE(with_sessions.Apply(SessionPut("l", "w", 2)).ok());
  ASSERT_EQ(with_sessions.store().revision(), plain.store().revision());
  EXPECT_EQ(with_sessions.store().HashKV(0)->hash, plain.store().HashKV(0)->hash);
}

}  // namespace
}  // namespace raftkv::kv
