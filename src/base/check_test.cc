#include "base/check.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace raftkv::base {
namespace {

// The check does not depend on NDEBUG: this test passes in Release builds too.
TEST(CheckDeathTest, ABrokenInvariantStopsTheProcessAndNamesIt) {
  const uint64_t commit = 5;
  const uint64_t last = 3;
  EXPECT_DEATH(
      RAFTKV_CHECK(commit <= last, "commit index ", commit, " is beyond the last index ", last),
      "invariant broken: commit index 5 is beyond the last index 3 "
      "\\[commit <= last\\] at .*check_test.cc:[0-9]+");
}

TEST(CheckTest, AHoldingInvariantDoesNotEvaluateTheMessage) {
  int evaluated = 0;
  auto message = [&evaluated] {
    ++evaluated;
    return "never built";
  };
  RAFTKV_CHECK(1 + 1 == 2, message());
  EXPECT_EQ(evaluated, 0);
}

}  // namespace
}  // namespace raftkv::base
