// The RocksDB engine's key encoding: the order RocksDB sorts encoded keys in must be the order
// the engine's reads assume.
#include "kv/rocksdb_format.h"

#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace raftkv::kv::rocksdb_format {
namespace {

using std::string_literals::operator""s;

// Keys that are prefixes of each other, with 0x00, 0x01 and 0xFF bytes where an escaping scheme
// could go wrong.
const std::vector<std::string> kKeys = {
    "a"s,  "a\0"s,  "a\0\0"s, "a\0\x01"s, "a\0\xff"s, "a\x01"s, "a\xff"s, "a\xff\xff"s,
    "ab"s, "ab\0"s, "abc"s,   "b"s,       "\0"s,      "\0\0"s,  "\xff"s,  "\xff\0"s};
const std::vector<int64_t> kRevisions = {
    1, 2, 255, 256, 65536, int64_t{1} << 40, std::numeric_limits<int64_t>::max()};

TEST(RocksDbFormat, VersionKeysSortByKeyThenNewestRevisionFirst) {
  for (const std::string& a : kKeys) {
    for (const std::string& b : kKeys) {
      for (int64_t ra : kRevisions) {
        for (int64_t rb : kRevisions) {
          // (key ascending, revision descending)
          const bool want_less = std::make_tuple(a, -ra) < std::make_tuple(b, -rb);
          const bool got_less = VersionKey(a, ra) < VersionKey(b, rb);
          ASSERT_EQ(got_less, want_less) << "keys " << ::testing::PrintToString(a) << "@" << ra
                                         << " and " << ::testing::PrintToString(b) << "@" << rb;
        }
      }
    }
  }
}

TEST(RocksDbFormat, SeekingToAKeyAtARevisionFindsItsNewestVersionAtOrBelowIt) {
  // Versions of "a" at 3, 5 and 9: a seek to (a, 7) must land on 5.
  std::vector<std::string> stored = {VersionKey("a", 3), VersionKey("a", 5), VersionKey("a", 9),
                                     VersionKey("a\0"s, 1), VersionKey("ab", 8)};
  std::sort(stored.begin(), stored.end());
  auto seek = [&](const std::string& target) {
    auto it = std::lower_bound(stored.begin(), stored.end(), target);
    return it == stored.end() ? std::optional<DecodedVersionKey>() : DecodeVersionKey(*it);
  };
  EXPECT_EQ(seek(VersionKey("a", 7))->revision, 5);
  EXPECT_EQ(seek(VersionKey("a", 9))->revision, 9);
  EXPECT_EQ(seek(VersionKey("a", 100))->revision, 9);
  // Below the oldest version the seek leaves the key: the next key is "a\0", not "ab".
  EXPECT_EQ(seek(VersionKey("a", 2))->key, "a\0"s);
}

TEST(RocksDbFormat, VersionKeyLimitSortsBetweenAKeyAndTheKeysAfterIt) {
  for (const std::string& a : kKeys) {
    const std::string limit = VersionKeyLimit(a);
    for (int64_t r : kRevisions) EXPECT_LT(VersionKey(a, r), limit);
    for (const std::string& b : kKeys) {
      if (b <= a) continue;
      for (int64_t r : kRevisions) {
        EXPECT_GT(VersionKey(b, r), limit)
            << ::testing::PrintToString(a) << " then " << ::testing::PrintToString(b);
      }
    }
  }
}

TEST(RocksDbFormat, VersionKeysDecodeBackToKeyAndRevision) {
  for (const std::string& key : kKeys) {
    for (int64_t revision : kRevisions) {
      std::optional<DecodedVersionKey> decoded = DecodeVersionKey(VersionKey(key, revision));
      ASSERT_TRUE(decoded.has_value());
      EXPECT_EQ(decoded->key, key);
      EXPECT_EQ(decoded->revision, revision);
      EXPECT_TRUE(VersionKey(key, revision).starts_with(VersionKeyPrefix(key)));
    }
  }
}

TEST(RocksDbFormat, MalformedVersionKeysAreRejected) {
  EXPECT_FALSE(DecodeVersionKey("").has_value());
  EXPECT_FALSE(DecodeVersionKey("short").has_value());
  std::string unescaped = "a\0b"s + "\0\x01"s + std::string(8, '\x01');
  EXPECT_FALSE(DecodeVersionKey(unescaped).has_value());
  std::string no_terminator = "abc" + std::string(8, '\x01');
  EXPECT_FALSE(DecodeVersionKey(no_terminator).has_value());
}

TEST(RocksDbFormat, VersionRecordsRoundTrip) {
  Version live{.mod_revision = 7,
               .create_revision = 3,
               .version = 2,
               .lease = -5,
               .value = "v\0al"s,
               .tombstone = false};
  EXPECT_EQ(DecodeVersion(EncodeVersion(live), 7), live);
  Version tombstone{.mod_revision = 9,
                    .create_revision = 0,
                    .version = 0,
                    .lease = 0,
                    .value = "",
                    .tombstone = true};
  EXPECT_EQ(DecodeVersion(EncodeVersion(tombstone), 9), tombstone);
  EXPECT_FALSE(DecodeVersion("", 1).has_value());
  EXPECT_FALSE(DecodeVersion("\x02", 1).has_value());
  EXPECT_FALSE(DecodeVersion("\x00short"s, 1).has_value());
}

TEST(RocksDbFormat, RevisionLogSortsByRevisionThenKey) {
  EXPECT_LT(RevisionKey(2, "z"), RevisionKey(3, "a"));
  EXPECT_LT(RevisionKey(255, "z"), RevisionKey(256, "a"));
  EXPECT_LT(RevisionKey(5, "a"), RevisionKey(5, "a\0"s));
  EXPECT_LT(RevisionKey(5, "a\0"s), RevisionKey(5, "ab"));
  const std::string encoded = RevisionKey(1 << 20, "a\0b"s);
  auto decoded = DecodeRevisionKey(encoded);  // points into `encoded`
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->revision, 1 << 20);
  EXPECT_EQ(decoded->key, "a\0b"s);
}

TEST(RocksDbFormat, LeaseKeysSortInSignedIdOrder) {
  EXPECT_LT(LeaseKey(-2), LeaseKey(-1));
  EXPECT_LT(LeaseKey(-1), LeaseKey(1));
  EXPECT_LT(LeaseKey(1), LeaseKey(256));
  EXPECT_EQ(DecodeLeaseKey(LeaseKey(-7)), -7);
  EXPECT_EQ(DecodeLeaseKey(LeaseKey(std::numeric_limits<int64_t>::max())),
            std::numeric_limits<int64_t>::max());
  EXPECT_TRUE(LeaseKeyKey(3, "k").starts_with(LeaseKeysPrefix(3)));
  EXPECT_FALSE(LeaseKeyKey(3, "k").starts_with(LeaseKeysPrefix(4)));
}

TEST(RocksDbFormat, MetaRecordsRoundTrip) {
  EngineMeta meta{.applied_index = 1234567890123,
                  .revision = 99,
                  .compact_revision = 42,
                  .size_bytes = 1 << 30,
                  .live_keys = 7,
                  .log_clock_ms = 1'700'000'000'123};
  EXPECT_EQ(DecodeMeta(EncodeMeta(meta)), meta);
  EXPECT_FALSE(DecodeMeta(EncodeMeta(meta).substr(1)).has_value());
  EXPECT_FALSE(DecodeMeta(EncodeMeta(meta) + "x").has_value());
}

TEST(RocksDbFormat, AMetaRecordOfFormatOneReadsAsAStoreThatNeverSawASession) {
  // As the format-1 encoder wrote it (before client sessions): applied index 5, revision 4,
  // compact revision 0, size 100, live keys 2.
  const std::string format_one = absl::HexStringToBytes(
      "01"
      "0000000000000005"
      "0000000000000004"
      "0000000000000000"
      "0000000000000064"
      "0000000000000002");
  std::optional<EngineMeta> meta = DecodeMeta(format_one);
  ASSERT_TRUE(meta.has_value());
  EXPECT_EQ(*meta, (EngineMeta{.applied_index = 5,
                               .revision = 4,
                               .compact_revision = 0,
                               .size_bytes = 100,
                               .live_keys = 2,
                               .log_clock_ms = 0}));
  // Written back, it is format 2.
  EXPECT_EQ(EncodeMeta(*meta)[0], '\x02');
  EXPECT_FALSE(DecodeMeta("\x03" + format_one.substr(1)).has_value());
}

TEST(RocksDbFormat, SessionKeysRoundTripAndSortByClientId) {
  const std::vector<uint64_t> clients = {1, 255, 256, 0x8000000000000000,
                                         std::numeric_limits<uint64_t>::max()};
  for (uint64_t a : clients) {
    EXPECT_EQ(DecodeSessionKey(SessionKey(a)), a);
    for (uint64_t b : clients) EXPECT_EQ(SessionKey(a) < SessionKey(b), a < b) << a << " " << b;
  }
  EXPECT_FALSE(DecodeSessionKey(AlarmKey(1, etcdserverpb::NOSPACE)).has_value());
  EXPECT_FALSE(DecodeSessionKey(SessionKey(1).substr(1)).has_value());
}

TEST(RocksDbFormat, AlarmKeysRoundTrip) {
  auto alarm = DecodeAlarmKey(AlarmKey(0xdeadbeef12345678, etcdserverpb::NOSPACE));
  ASSERT_TRUE(alarm.has_value());
  EXPECT_EQ(alarm->first, 0xdeadbeef12345678);
  EXPECT_EQ(alarm->second, etcdserverpb::NOSPACE);
}

// A compaction looks up the mark at or below a revision with one seek backwards from the
// revision's own key, which needs marks in revision order and apart from every other meta key.
TEST(RocksDbFormat, ObsoleteMarkKeysRoundTripAndSortByRevision) {
  const std::vector<int64_t> revisions = {1, 255, 256, 1 << 20,
                                          std::numeric_limits<int64_t>::max()};
  for (int64_t a : revisions) {
    EXPECT_EQ(DecodeObsoleteMarkKey(ObsoleteMarkKey(a)), a);
    for (int64_t b : revisions) {
      EXPECT_EQ(ObsoleteMarkKey(a) < ObsoleteMarkKey(b), a < b) << a << " " << b;
    }
  }
  EXPECT_FALSE(DecodeObsoleteMarkKey(SessionKey(1)).has_value());
  EXPECT_FALSE(DecodeObsoleteMarkKey(std::string(kCompactionKey)).has_value());
  EXPECT_NE(std::string(kCompactionKey)[0], kObsoleteMarkPrefix);
}

TEST(RocksDbFormat, CompactionRecordsRoundTripWithAnyResumeKey) {
  for (const std::string& resume_key : {""s, RevisionKey(7, "a\0b"s)}) {
    const CompactionRecord record{.pending_revision = 20'000,
                                  .obsolete_bytes_at_compaction = 123'456,
                                  .resume_key = resume_key};
    EXPECT_EQ(DecodeCompactionRecord(EncodeCompactionRecord(record)), record);
  }
  const std::string encoded = EncodeCompactionRecord(CompactionRecord{});
  EXPECT_FALSE(DecodeCompactionRecord(encoded.substr(0, 16)).has_value());
  EXPECT_FALSE(DecodeCompactionRecord("\x02" + encoded.substr(1)).has_value());
}

}  // namespace
}  // namespace raftkv::kv::rocksdb_format
