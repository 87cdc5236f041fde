#include "key_generator.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace raftkv::bench {
namespace {

TEST(KeyGeneratorTest, KeysAreZeroPaddedDecimalOfTheGivenSize) {
  EXPECT_EQ(KeyGenerator::KeyAt(42, 8), "00000042");
  EXPECT_EQ(KeyGenerator::KeyAt(0, 3), "000");
  EXPECT_EQ(KeyGenerator::KeyAt(999, 3), "999");
  EXPECT_EQ(KeyGenerator::KeyAt(7, 1), "7");
}

TEST(KeyGeneratorTest, KeySpaceFitsCountsTheDigitsOfTheLargestKey) {
  EXPECT_TRUE(KeyGenerator::KeySpaceFits(1000, 3));  // 0..999
  EXPECT_FALSE(KeyGenerator::KeySpaceFits(1001, 3));
  EXPECT_TRUE(KeyGenerator::KeySpaceFits(1, 1));
  EXPECT_TRUE(KeyGenerator::KeySpaceFits(UINT64_MAX, 20));
  EXPECT_FALSE(KeyGenerator::KeySpaceFits(UINT64_MAX, 19));
}

TEST(KeyGeneratorTest, UniformKeysStayInTheKeySpaceAndCoverIt) {
  KeyGenerator keys(4, 50, /*seed=*/9);
  std::set<std::string> seen;
  std::string key;
  for (int i = 0; i < 5000; ++i) {
    keys.Next(&key);
    ASSERT_EQ(key.size(), 4u);
    ASSERT_LT(std::stoi(key), 50);
    seen.insert(key);
  }
  EXPECT_EQ(seen.size(), 50u);
}

TEST(KeyGeneratorTest, SameSeedGivesTheSameKeys) {
  KeyGenerator a(8, 1000000, 5), b(8, 1000000, 5), c(8, 1000000, 6);
  std::string ka, kb, kc;
  bool all_equal_to_c = true;
  for (int i = 0; i < 100; ++i) {
    a.Next(&ka);
    b.Next(&kb);
    c.Next(&kc);
    ASSERT_EQ(ka, kb);
    all_equal_to_c &= ka == kc;
  }
  EXPECT_FALSE(all_equal_to_c);
}

TEST(KeyGeneratorTest, SequentialKeysShareOneCounterAndWrapAround) {
  std::atomic<uint64_t> sequence{0};
  KeyGenerator first(2, 3, &sequence), second(2, 3, &sequence);
  std::string key;
  first.Next(&key);
  EXPECT_EQ(key, "00");
  second.Next(&key);
  EXPECT_EQ(key, "01");
  first.Next(&key);
  EXPECT_EQ(key, "02");
  second.Next(&key);
  EXPECT_EQ(key, "00");
}

}  // namespace
}  // namespace raftkv::bench
