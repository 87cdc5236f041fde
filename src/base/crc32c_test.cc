#include "base/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace raftkv::base::crc32c {
namespace {

// Vectors from RFC 3720 (iSCSI) appendix B.4 and the classic "123456789" check value.
struct Vector {
  std::string data;
  uint32_t crc;
};

std::vector<Vector> KnownVectors() {
  std::string ascending(32, '\0'), descending(32, '\0');
  for (int i = 0; i < 32; ++i) {
    ascending[i] = static_cast<char>(i);
    descending[i] = static_cast<char>(31 - i);
  }
  return {{"123456789", 0xe3069283u},
          {std::string(32, '\0'), 0x8a9136aau},
          {std::string(32, '\xff'), 0x62a8ab43u},
          {ascending, 0x46dd794eu},
          {descending, 0x113fdb5cu},
          {"", 0u}};
}

TEST(Crc32cTest, PortableMatchesKnownVectors) {
  for (const Vector& v : KnownVectors()) {
    EXPECT_EQ(ExtendPortable(0, v.data.data(), v.data.size()), v.crc) << v.data.size();
  }
}

TEST(Crc32cTest, HardwareMatchesKnownVectors) {
  if (!HasHardware()) GTEST_SKIP() << "CPU has no SSE4.2";
  for (const Vector& v : KnownVectors()) {
    EXPECT_EQ(ExtendHardware(0, v.data.data(), v.data.size()), v.crc) << v.data.size();
  }
}

TEST(Crc32cTest, DispatchedValueMatchesKnownVectors) {
  for (const Vector& v : KnownVectors()) EXPECT_EQ(Value(v.data), v.crc);
}

TEST(Crc32cTest, ExtendInPiecesEqualsWholeAtEveryAlignment) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 37 + 11));
  const uint32_t whole = ExtendPortable(0, data.data(), data.size());
  for (size_t split = 0; split <= 17; ++split) {
    const uint32_t head = Extend(0, data.data(), split);
    EXPECT_EQ(Extend(head, data.data() + split, data.size() - split), whole) << split;
    // Unaligned starting addresses exercise the hardware path's byte prologue.
    EXPECT_EQ(Value(data.data() + split, 100), ExtendPortable(0, data.data() + split, 100));
  }
}

TEST(Crc32cTest, MaskIsInvertibleAndChangesTheValue) {
  const uint32_t crc = Value("123456789");
  EXPECT_NE(Mask(crc), crc);
  EXPECT_EQ(Unmask(Mask(crc)), crc);
}

}  // namespace
}  // namespace raftkv::base::crc32c
