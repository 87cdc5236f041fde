// The session record and remembered-answer encoding (kv/session.h): round trips, the answer-size
// bound, and malformed bytes refused.
#include <string>

#include "gtest/gtest.h"
#include "kv/errors.h"
#include "kv/session.h"

namespace raftkv::kv {
namespace {

kvpb::Response PutAnswer(int64_t revision, uint64_t id) {
  kvpb::Response response;
  response.set_id(id);
  response.mutable_put()->mutable_header()->set_revision(revision);
  return response;
}

TEST(SessionRecord, RecordsRoundTrip) {
  const SessionRecord record{.sequence = 0xFFFFFFFFFFFFFFFF,
                             .last_used_ms = 1'700'000'000'000,
                             .answer = EncodeSessionAnswer(PutAnswer(9, 0), 1, 2)};
  EXPECT_EQ(DecodeSessionRecord(EncodeSessionRecord(record)), record);
}

TEST(SessionRecord, ASuccessIsRememberedWithoutItsRequestId) {
  const std::optional<absl::StatusOr<kvpb::Response>> answer =
      DecodeSessionAnswer(EncodeSessionAnswer(PutAnswer(9, 1234), 1, 2));
  ASSERT_TRUE(answer.has_value());
  ASSERT_TRUE(answer->ok());
  EXPECT_EQ((*answer)->id(), 0u);
  EXPECT_EQ((*answer)->put().header().revision(), 9);
}

TEST(SessionRecord, AnErrorIsRememberedWithItsCodeAndExactMessage) {
  const std::optional<absl::StatusOr<kvpb::Response>> answer =
      DecodeSessionAnswer(EncodeSessionAnswer(LeaseNotFoundError(), 1, 2));
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status(), LeaseNotFoundError());
}

TEST(SessionRecord, AnAnswerOverTheLimitIsRememberedAsAnswerTooLarge) {
  kvpb::Response big;
  big.mutable_put()->mutable_prev_kv()->set_value(std::string(kMaxRememberedAnswerBytes, 'x'));
  const std::string encoded = EncodeSessionAnswer(big, 5, 6);
  EXPECT_LT(encoded.size(), kMaxRememberedAnswerBytes);
  const std::optional<absl::StatusOr<kvpb::Response>> answer = DecodeSessionAnswer(encoded);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status(), AnswerTooLargeError(5, 6, big.ByteSizeLong()));
}

TEST(SessionRecord, MalformedBytesAreRefused) {
  const std::string good = EncodeSessionRecord(
      {.sequence = 3, .last_used_ms = 1, .answer = EncodeSessionAnswer(PutAnswer(2, 0), 1, 3)});
  EXPECT_FALSE(DecodeSessionRecord("").has_value());
  EXPECT_FALSE(DecodeSessionRecord(good.substr(0, 10)).has_value());       // truncated header
  EXPECT_FALSE(DecodeSessionRecord("\x02" + good.substr(1)).has_value());  // unknown format
  EXPECT_FALSE(DecodeSessionRecord(EncodeSessionRecord({.sequence = 0, .answer = good.substr(17)}))
                   .has_value());  // sequences start at 1
  EXPECT_FALSE(DecodeSessionAnswer("").has_value());
  EXPECT_FALSE(DecodeSessionAnswer(std::string("\x01\0\0\0\0ok", 7)).has_value());  // OK "error"
  EXPECT_FALSE(DecodeSessionAnswer(std::string("\x01\0", 2)).has_value());          // no code
  EXPECT_FALSE(DecodeSessionAnswer("\x07").has_value());                            // unknown kind
}

}  // namespace
}  // namespace raftkv::kv
