// The schedule is what a seed replays: the same seed gives the same steps, and every enabled
// kind comes once per cycle.
#include <gtest/gtest.h>

#include <set>

#include "nemesis.h"

namespace raftkv::faults {
namespace {

TEST(NemesisSchedule, TheSameSeedGivesTheSameSteps) {
  NemesisSchedule a(42, AllNemeses(), ScheduleTiming{});
  NemesisSchedule b(42, AllNemeses(), ScheduleTiming{});
  NemesisSchedule c(43, AllNemeses(), ScheduleTiming{});
  bool differs = false;
  for (int i = 0; i < 50; ++i) {
    const NemesisStep x = a.Next();
    const NemesisStep y = b.Next();
    const NemesisStep z = c.Next();
    EXPECT_EQ(x.number, i + 1);
    EXPECT_EQ(x.kind, y.kind);
    EXPECT_EQ(x.hold, y.hold);
    EXPECT_EQ(x.pause, y.pause);
    EXPECT_EQ(x.choice, y.choice);
    differs = differs || x.kind != z.kind || x.hold != z.hold;
  }
  EXPECT_TRUE(differs) << "another seed should give another schedule";
}

TEST(NemesisSchedule, EveryKindOncePerCycleWithHoldsAndPausesInRange) {
  const ScheduleTiming timing;
  NemesisSchedule schedule(7, AllNemeses(), timing);
  const size_t kinds = AllNemeses().size();
  for (int cycle = 0; cycle < 5; ++cycle) {
    std::set<NemesisKind> seen;
    for (size_t i = 0; i < kinds; ++i) {
      const NemesisStep step = schedule.Next();
      seen.insert(step.kind);
      EXPECT_GE(step.hold, timing.min_hold);
      EXPECT_LE(step.hold, timing.max_hold);
      EXPECT_GE(step.pause, timing.min_pause);
      EXPECT_LE(step.pause, timing.max_pause);
    }
    EXPECT_EQ(seen.size(), kinds) << "cycle " << cycle;
  }
}

TEST(NemesisSchedule, NamesRoundTrip) {
  for (NemesisKind kind : AllNemeses()) {
    EXPECT_EQ(NemesisFromName(NemesisName(kind)), kind);
  }
  EXPECT_FALSE(NemesisFromName("meteor").has_value());
}

}  // namespace
}  // namespace raftkv::faults
