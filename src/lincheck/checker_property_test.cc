// The checker against a deliberately naive second implementation: on many small random
// histories both must agree. The naive one tries every order of the operations, so it has none
// of the search's pruning (memoization, forced moves, dominance of unknown operations).
#include <optional>
#include <string>
#include <vector>

#include "base/rand.h"
#include "gtest/gtest.h"
#include "lincheck/checker.h"
#include "lincheck/history.h"
#include "lincheck/model.h"

namespace raftkv::lincheck {
namespace {

// True if the operations not in `placed` can be ordered after `state`: each next operation
// must have no unplaced known-outcome operation that returned before it was called.
// Unknown operations may be left out; failed ones are never placed.
bool NaiveLinearizable(const Model& model, const History& history, std::vector<bool>& placed,
                       const State& state) {
  bool all_known_placed = true;
  for (size_t i = 0; i < history.size(); ++i) {
    if (!placed[i] && history[i].status == OpStatus::kOk) all_known_placed = false;
  }
  if (all_known_placed) return true;
  for (size_t i = 0; i < history.size(); ++i) {
    if (placed[i] || history[i].status == OpStatus::kFailed) continue;
    bool ready = true;
    for (size_t j = 0; j < history.size(); ++j) {
      if (!placed[j] && j != i && history[j].status == OpStatus::kOk &&
          history[j].ret < history[i].call) {
        ready = false;
      }
    }
    State next;
    if (!ready || !model.Step(state, history[i], &next)) continue;
    placed[i] = true;
    const bool ok = NaiveLinearizable(model, history, placed, next);
    placed[i] = false;
    if (ok) return true;
  }
  return false;
}

std::optional<std::string> RandomValue(base::Rand& rand) {
  switch (rand.Uniform(3)) {
    case 0:
      return std::nullopt;
    case 1:
      return "a";
    default:
      return "b";
  }
}

History RandomHistory(base::Rand& rand) {
  History history;
  const int n = 1 + static_cast<int>(rand.Uniform(7));
  for (int i = 0; i < n; ++i) {
    Operation op;
    op.client_id = i;
    op.key = "k";
    op.call = static_cast<int64_t>(rand.Uniform(20));
    op.ret = op.call + static_cast<int64_t>(rand.Uniform(8));
    switch (rand.Uniform(3)) {
      case 0:
        op.kind = OpKind::kGet;
        op.output = RandomValue(rand);
        break;
      case 1:
        op.kind = OpKind::kPut;
        op.value = rand.Bernoulli(0.5) ? "a" : "b";
        break;
      default:
        op.kind = OpKind::kCas;
        op.expected = RandomValue(rand);
        op.value = rand.Bernoulli(0.5) ? "a" : "b";
        op.swapped = rand.Bernoulli(0.5);
        break;
    }
    const uint64_t outcome = rand.Uniform(10);
    if (outcome < 2) op.status = OpStatus::kUnknown;
    if (outcome == 2) op.status = OpStatus::kFailed;
    history.push_back(op);
  }
  return history;
}

TEST(CheckerPropertyTest, AgreesWithExhaustiveSearchOnSmallRandomHistories) {
  const auto model = NewKvModel();
  base::Rand rand(/*seed=*/20261125);
  int linearizable = 0;
  constexpr int kHistories = 3000;
  for (int i = 0; i < kHistories; ++i) {
    const History history = RandomHistory(rand);
    std::vector<bool> placed(history.size(), false);
    const bool expected = NaiveLinearizable(*model, history, placed, model->Init());
    const CheckResult result = CheckHistory(*model, history);
    ASSERT_EQ(result.verdict, expected ? Verdict::kLinearizable : Verdict::kNotLinearizable)
        << "history #" << i << ":\n"
        << [&] {
             std::string text;
             for (const Operation& op : history) text += DescribeOperation(op) + "\n";
             return text;
           }();
    linearizable += expected ? 1 : 0;
  }
  // Both verdicts must be well represented, or the comparison proves little.
  EXPECT_GT(linearizable, kHistories / 5);
  EXPECT_LT(linearizable, kHistories * 4 / 5);
}

}  // namespace
}  // namespace raftkv::lincheck
