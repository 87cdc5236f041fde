// The client half of exactly-once writes: sequences, ids, and which failures are retried with
// the same tag, how often and after what pauses.
#include "client_session.h"

#include <vector>

#include "gtest/gtest.h"

namespace raftkv::cli {
namespace {

TEST(ClientSession, WritesAreNumberedFromOneUnderOneId) {
  ClientSession session(77);
  const SessionTag first = session.NextWrite();
  const SessionTag second = session.NextWrite();
  EXPECT_EQ(first.client_id, 77u);
  EXPECT_EQ(second.client_id, 77u);
  EXPECT_EQ(first.sequence, 1u);
  EXPECT_EQ(second.sequence, 2u);
}

TEST(ClientSession, RandomIdsAreNonZeroAndDifferBetweenSessions) {
  ClientSession a;
  ClientSession b;
  EXPECT_NE(a.client_id(), 0u);
  EXPECT_NE(a.client_id(), b.client_id());
}

TEST(ClientSession, RenewTakesANewIdAndStartsAgainAtSequenceOne) {
  ClientSession session(77);
  session.NextWrite();
  session.NextWrite();
  session.Renew();
  const SessionTag tag = session.NextWrite();
  EXPECT_NE(tag.client_id, 77u);
  EXPECT_EQ(tag.sequence, 1u);
}

TEST(RetryWrite, UnavailableAndDeadlineExceededAreRetriedUntilAnAnswer) {
  std::vector<absl::StatusOr<int>> answers = {absl::UnavailableError("member gone"),
                                              absl::DeadlineExceededError("too slow"), 7};
  std::vector<int> attempts;
  std::vector<absl::Duration> pauses;
  const absl::StatusOr<int> result = RetryWrite<int>(
      RetryPolicy{},
      [&](int attempt) {
        attempts.push_back(attempt);
        return answers[static_cast<size_t>(attempt)];
      },
      [&](absl::Duration pause) { pauses.push_back(pause); });
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, 7);
  EXPECT_EQ(attempts, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(pauses.size(), 2u);
}

TEST(RetryWrite, AnyOtherErrorIsTheAnswerAndIsNotRetried) {
  for (const absl::Status& error :
       {absl::InvalidArgumentError("bad"), absl::FailedPreconditionError("stale sequence"),
        absl::NotFoundError("session not found"), absl::ResourceExhaustedError("no space")}) {
    int attempts = 0;
    const absl::StatusOr<int> result = RetryWrite<int>(
        RetryPolicy{},
        [&](int) -> absl::StatusOr<int> {
          ++attempts;
          return error;
        },
        [](absl::Duration) {});
    EXPECT_EQ(result.status(), error);
    EXPECT_EQ(attempts, 1) << error;
  }
}

TEST(RetryWrite, GivesUpAfterMaxAttemptsWithTheLastError) {
  RetryPolicy policy;
  policy.max_attempts = 3;
  int attempts = 0;
  const absl::StatusOr<int> result = RetryWrite<int>(
      policy,
      [&](int attempt) -> absl::StatusOr<int> {
        ++attempts;
        return absl::UnavailableError("attempt " + std::to_string(attempt));
      },
      [](absl::Duration) {});
  EXPECT_EQ(attempts, policy.max_attempts);
  EXPECT_EQ(result.status(), absl::UnavailableError("attempt 2"));
}

TEST(RetryWrite, PausesDoubleFromTheFirstBackoffUpToTheMaximum) {
  const RetryPolicy policy{.max_attempts = 8,
                           .first_backoff = absl::Milliseconds(100),
                           .max_backoff = absl::Milliseconds(500)};
  EXPECT_EQ(Backoff(policy, 1), absl::Milliseconds(100));
  EXPECT_EQ(Backoff(policy, 2), absl::Milliseconds(200));
  EXPECT_EQ(Backoff(policy, 3), absl::Milliseconds(400));
  EXPECT_EQ(Backoff(policy, 4), absl::Milliseconds(500));
  EXPECT_EQ(Backoff(policy, 60), absl::Milliseconds(500));
}

TEST(ClientSession, SessionNotFoundIsRecognisedByItsPhrase) {
  EXPECT_TRUE(IsSessionNotFound(
      absl::NotFoundError("127.0.0.1:2379: raftkv: session not found: client 5 has no session")));
  EXPECT_FALSE(IsSessionNotFound(absl::NotFoundError("etcdserver: requested lease not found")));
}

}  // namespace
}  // namespace raftkv::cli
