#include "storage/wal_format.h"

#include <gtest/gtest.h>

namespace raftkv::storage {
namespace {

TEST(WalFormatTest, RecordRoundTripsAndIsPaddedToEightBytes) {
  std::string buf;
  AppendRecord(RecordType::kEntry, "hello", &buf);
  EXPECT_EQ(buf.size(), 16u);
  DecodedRecord r;
  ASSERT_EQ(DecodeRecord(buf, &r), DecodeResult::kOk);
  EXPECT_EQ(r.type, RecordType::kEntry);
  EXPECT_EQ(r.payload, "hello");
  EXPECT_EQ(r.size_bytes, 16u);
}

TEST(WalFormatTest, ARecordSerializedInPlaceIsTheSameAsOneAppendedFromAPayload) {
  for (size_t n = 0; n <= 17; ++n) {
    const std::string payload(n, static_cast<char>('a' + n));
    std::string copied = "prefix", in_place = "prefix";
    AppendRecord(RecordType::kEntry, payload, &copied);
    AppendRecordInPlace(
        RecordType::kEntry, n, [&](char* dst) { payload.copy(dst, n); }, &in_place);
    EXPECT_EQ(in_place, copied) << n;
    DecodedRecord r;
    ASSERT_EQ(DecodeRecord(std::string_view(in_place).substr(6), &r), DecodeResult::kOk);
    EXPECT_EQ(r.payload, payload);
  }
}

TEST(WalFormatTest, EightZeroBytesReadAsEndOfLog) {
  DecodedRecord r;
  EXPECT_EQ(DecodeRecord(std::string(64, '\0'), &r), DecodeResult::kZero);
}

TEST(WalFormatTest, AnyFlippedBitIsDetected) {
  std::string buf;
  AppendRecord(RecordType::kHardState, "0123456789abcdef0123", &buf);
  for (size_t byte = 0; byte < 8 + 20; ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = buf;
      damaged[byte] = static_cast<char>(damaged[byte] ^ (1 << bit));
      DecodedRecord r;
      EXPECT_NE(DecodeRecord(damaged, &r), DecodeResult::kOk) << byte << ":" << bit;
    }
  }
}

TEST(WalFormatTest, ARecordCutShortIsTruncated) {
  std::string buf;
  AppendRecord(RecordType::kEntry, std::string(100, 'x'), &buf);
  DecodedRecord r;
  EXPECT_EQ(DecodeRecord(std::string_view(buf).substr(0, 50), &r), DecodeResult::kTruncated);
}

TEST(WalFormatTest, SegmentHeaderRoundTrips) {
  SegmentHeader h;
  h.seq = 7;
  h.last_index = 99;
  h.hard_state.set_term(3);
  h.hard_state.set_vote(2);
  h.hard_state.set_commit(90);
  h.snapshot = SnapshotMarker{50, 2};
  SegmentHeader back;
  ASSERT_TRUE(DecodeSegmentHeader(EncodeSegmentHeader(h), &back));
  EXPECT_EQ(back.seq, 7u);
  EXPECT_EQ(back.last_index, 99u);
  EXPECT_EQ(back.hard_state.commit(), 90u);
  EXPECT_EQ(back.snapshot, h.snapshot);
}

TEST(WalFormatTest, FileNamesRoundTripAndRejectStrangers) {
  EXPECT_EQ(ParseSegmentFileName(SegmentFileName(0x1234)), 0x1234u);
  EXPECT_EQ(ParseSnapshotFileName(SnapshotFileName(10, 3)), (SnapshotMarker{10, 3}));
  EXPECT_FALSE(ParseSegmentFileName("wal-xyz.log"));
  EXPECT_FALSE(ParseSegmentFileName(SegmentFileName(1) + ".tmp"));
  EXPECT_FALSE(ParseSnapshotFileName("snap-1-2.snap"));
}

}  // namespace
}  // namespace raftkv::storage
