// Property test: the store against a deliberately naive model that keeps a full copy of the
// key space for every revision. Random puts, deletes, txns and compactions; after each step,
// random ranges at random revisions must agree. RAFTKV_SOAK=1 runs many more seeds.
#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "base/rand.h"
#include "fmt/format.h"
#include "gtest/gtest.h"
#include "kv/store_test_util.h"

namespace raftkv::kv {
namespace {

using testing::DelReq;
using testing::PutReq;
using testing::RangeReq;
using testing::StoreDriver;
using testing::Wrap;

struct ModelKv {
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
};
using ModelState = std::map<std::string, ModelKv>;

// states[r] is the whole key space at revision r (states[0] unused, states[1] empty).
class Model {
 public:
  Model() : states_(2) {}

  int64_t revision() const { return static_cast<int64_t>(states_.size()) - 1; }

  void Put(const std::string& key, const std::string& value) {
    ModelState next = states_.back();
    const int64_t rev = revision() + 1;
    auto it = next.find(key);
    if (it == next.end()) {
      next[key] = {value, rev, rev, 1};
    } else {
      it->second = {value, it->second.create_revision, rev, it->second.version + 1};
    }
    states_.push_back(std::move(next));
  }

  int64_t Delete(const std::string& key, const std::string& end) {
    ModelState next = states_.back();
    int64_t deleted = 0;
    for (auto it = next.begin(); it != next.end();) {
      if (InRange(it->first, key, end)) {
        it = next.erase(it);
        ++deleted;
      } else {
        ++it;
      }
    }
    if (deleted > 0) states_.push_back(std::move(next));
    return deleted;
  }

  const ModelState& At(int64_t revision) const { return states_[revision]; }

  static bool InRange(const std::string& k, const std::string& key, const std::string& end) {
    if (end.empty()) return k == key;
    if (end == std::string(1, '\0')) return k >= key;
    return k >= key && k < end;
  }

 private:
  std::vector<ModelState> states_;
};

std::string RandomKey(base::Rand& rand) { return "k" + std::to_string(rand.Next() % 12); }

void RunSeed(uint64_t seed, int steps) {
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  base::Rand rand(seed);
  StoreDriver store;
  Model model;
  int64_t compacted = 0;
  for (int step = 0; step < steps; ++step) {
    const std::string key = RandomKey(rand);
    std::string end = rand.Next() % 3 == 0 ? RandomKey(rand) : "";
    if (rand.Next() % 10 == 0) end = std::string(1, '\0');
    switch (rand.Next() % 8) {
      case 0:
      case 1:
      case 2: {
        const std::string value = std::to_string(rand.Next() % 1000);
        store.Put(key, value);
        model.Put(key, value);
        break;
      }
      case 3:
      case 4:
        ASSERT_EQ(store.Delete(key, end).deleted(), model.Delete(key, end));
        break;
      case 5: {
        // if version(key) == v then put key else delete key
        const int64_t version = static_cast<int64_t>(rand.Next() % 3);
        etcdserverpb::TxnRequest txn;
        auto* compare = txn.add_compare();
        compare->set_key(key);
        compare->set_target(etcdserverpb::Compare::VERSION);
        compare->set_version(version);
        *txn.add_success() = testing::PutOp(key, "txn");
        *txn.add_failure() = testing::DelOp(key);
        const auto& now = model.At(model.revision());
        auto it = now.find(key);
        const bool holds = (it == now.end() ? 0 : it->second.version) == version;
        ASSERT_EQ(store.Txn(txn).succeeded(), holds);
        if (holds) {
          model.Put(key, "txn");
        } else {
          model.Delete(key, "");
        }
        break;
      }
      case 6:
        if (rand.Next() % 4 == 0 && model.revision() > compacted) {
          const int64_t rev =
              compacted + 1 + static_cast<int64_t>(rand.Next() % (model.revision() - compacted));
          ASSERT_TRUE(store.Apply(testing::CompactReq(rev)).ok());
          compacted = rev;
        }
        break;
      default:
        break;
    }
    ASSERT_EQ(store.store().revision(), model.revision());

    // A few reads at random readable revisions.
    for (int read = 0; read < 3; ++read) {
      const int64_t low = std::max<int64_t>(compacted, 1);
      const int64_t rev = low + static_cast<int64_t>(rand.Next() % (model.revision() - low + 1));
      const std::string from = RandomKey(rand);
      const std::string to = rand.Next() % 2 ? RandomKey(rand) : std::string(1, '\0');
      auto request = RangeReq(from, to);
      request.set_revision(rev);
      const etcdserverpb::RangeResponse got = store.Get(request);
      std::vector<std::string> expected;
      for (const auto& [k, kv] : model.At(rev)) {
        if (Model::InRange(k, from, to)) {
          expected.push_back(fmt::format("{}={}@{}/{}/{}", k, kv.value, kv.create_revision,
                                         kv.mod_revision, kv.version));
        }
      }
      std::vector<std::string> actual;
      for (const auto& kv : got.kvs()) {
        actual.push_back(fmt::format("{}={}@{}/{}/{}", kv.key(), kv.value(), kv.create_revision(),
                                     kv.mod_revision(), kv.version()));
      }
      ASSERT_EQ(actual, expected) << "range [" << from << ", " << to << ") at " << rev;
      ASSERT_EQ(got.count(), static_cast<int64_t>(expected.size()));
    }
  }
}

TEST(StoreModel, AgreesWithANaiveCopyPerRevisionModel) {
  const bool soak = std::getenv("RAFTKV_SOAK") != nullptr;
  const int seeds = soak ? 200 : 4;
  const int steps = soak ? 3000 : 400;
  for (int seed = 1; seed <= seeds; ++seed) {
    RunSeed(static_cast<uint64_t>(seed), steps);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace raftkv::kv
