// The crash-consistency property: after any sequence of appends, overwrites, hard-state
// updates, snapshots and compactions, cut at a random point by a power loss that may tear the
// last write, the storage reopens to exactly a state that the model says may have survived:
// everything synced before the crash, plus possibly a prefix (in write order) of what was
// written after the last sync. Never less, never a mix.
//
// Two kinds of power loss: the file system's writes reach the disk in order and the last one
// may be torn; or the page cache wrote the unsynced pages back in any order, so a write of
// several pages may have its later pages on disk and its earlier ones not. Either way the
// recovered log is a synced prefix, and the open never refuses it.
//
// RAFTKV_SOAK=1 runs many more sequences.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>

#include "base/rand.h"
#include "io/fault_injection_env.h"
#include "storage/durable_storage.h"
#include "storage/test_util.h"

namespace raftkv::storage {
namespace {

using testing::MakeHardState;

// The deliberately naive model: a snapshot point and the entries after it.
struct ModelState {
  raftpb::HardState hard_state;
  uint64_t snap_index = 0;
  uint64_t snap_term = 0;
  std::string snap_data;
  std::vector<raftpb::Entry> entries;  // snap_index + 1 ...

  uint64_t last_index() const { return snap_index + entries.size(); }

  void AppendEntry(const raftpb::Entry& e) {
    entries.resize(e.index() - snap_index - 1);
    entries.push_back(e);
  }
  void KeepAfterSnapshot(uint64_t index, uint64_t term, const std::string& data) {
    const uint64_t drop = std::min<uint64_t>(index - snap_index, entries.size());
    entries.erase(entries.begin(), entries.begin() + static_cast<ptrdiff_t>(drop));
    snap_index = index;
    snap_term = term;
    snap_data = data;
  }
  void ReplaceBySnapshot(uint64_t index, uint64_t term, const std::string& data) {
    entries.clear();
    snap_index = index;
    snap_term = term;
    snap_data = data;
  }
};

std::string Describe(const ModelState& m) {
  std::string s = "hs(" + std::to_string(m.hard_state.term()) + "," +
                  std::to_string(m.hard_state.vote()) + "," +
                  std::to_string(m.hard_state.commit()) + ") snap " + std::to_string(m.snap_index) +
                  "/" + std::to_string(m.snap_term) + " log";
  for (const raftpb::Entry& e : m.entries) {
    s += " " + std::to_string(e.index()) + "/" + std::to_string(e.term());
  }
  return s;
}

// What the reopened storage holds, in model form.
absl::StatusOr<ModelState> Observe(const DurableStorage& storage) {
  ModelState m;
  raftpb::ConfState cs;
  if (absl::Status s = storage.InitialState(&m.hard_state, &cs); !s.ok()) return s;
  auto snap = storage.Snapshot();
  if (!snap.ok()) return snap.status();
  m.snap_index = snap->metadata().index();
  m.snap_term = snap->metadata().term();
  m.snap_data = snap->data();
  if (storage.FirstIndex() != m.snap_index + 1) {
    return absl::InternalError("first index is not just after the snapshot");
  }
  auto entries = storage.Entries(storage.FirstIndex(), storage.LastIndex() + 1, raft::kNoLimit);
  if (!entries.ok()) return entries.status();
  m.entries = *entries;
  return m;
}

bool Same(const ModelState& a, const ModelState& b) {
  if (a.hard_state.term() != b.hard_state.term() || a.hard_state.vote() != b.hard_state.vote() ||
      a.hard_state.commit() != b.hard_state.commit() || a.snap_index != b.snap_index ||
      a.snap_term != b.snap_term || a.snap_data != b.snap_data ||
      a.entries.size() != b.entries.size()) {
    return false;
  }
  for (size_t i = 0; i < a.entries.size(); ++i) {
    if (a.entries[i].SerializeAsString() != b.entries[i].SerializeAsString()) return false;
  }
  return true;
}

enum class PowerCut { kInOrderTornLastWrite, kPagesInAnyOrder };

// Runs one random sequence and checks the recovered state. Returns a failure description.
std::string RunSequence(uint64_t seed, PowerCut cut = PowerCut::kInOrderTornLastWrite) {
  base::Rand rand(seed);
  io::FaultInjectionEnv env(seed);
  DurableStorageOptions options;
  options.wal.segment_bytes = 256 + rand.Uniform(1024);
  options.wal.preallocate = rand.Bernoulli(0.7);
  options.entry_cache_bytes = rand.Uniform(2000);
  const std::string dir = "/data";

  auto opened = DurableStorage::Open(&env, dir, options);
  if (!opened.ok()) return "open: " + opened.status().ToString();
  std::unique_ptr<DurableStorage> storage = std::move(*opened);

  ModelState model;
  // States that may be found after a crash; front() is the last synced one.
  std::vector<ModelState> candidates{model};
  auto durable = [&] { candidates.assign(1, model); };

  const int ops = 5 + static_cast<int>(rand.Uniform(30));
  if (rand.Bernoulli(0.6)) env.CrashAfter(rand.Uniform(static_cast<uint64_t>(ops) * 6));
  uint64_t term = 1;
  bool crashed_in_op = false;

  for (int op = 0; op < ops && !crashed_in_op; ++op) {
    const uint64_t kind = rand.Uniform(10);
    if (kind < 6) {  // Save: maybe overwrite the tail, maybe a new hard state, maybe unsynced
      const uint64_t low = std::max<uint64_t>(model.snap_index + 1,
                                              model.last_index() > 3 ? model.last_index() - 2 : 1);
      const uint64_t start = rand.Range(low, model.last_index() + 2);
      if (rand.Bernoulli(0.3)) ++term;
      std::vector<raftpb::Entry> entries;
      const uint64_t count = rand.Uniform(5);
      for (uint64_t i = 0; i < count; ++i) {
        entries.push_back(
            testing::MakeEntry(start + i, term, std::string(1 + rand.Uniform(200), 'a' + i % 26)));
      }
      std::optional<raftpb::HardState> hs;
      if (rand.Bernoulli(0.5)) {
        hs = MakeHardState(term, rand.Uniform(4), std::min(model.last_index(), rand.Uniform(50)));
      }
      const bool sync = rand.Bernoulli(0.7);
      const absl::Status s = storage->Save(hs, entries, sync);
      // Record by record, in write order: entries, then the hard state.
      ModelState next = model;
      std::vector<ModelState> prefixes;
      for (const raftpb::Entry& e : entries) {
        next.AppendEntry(e);
        prefixes.push_back(next);
      }
      if (hs) {
        next.hard_state = *hs;
        prefixes.push_back(next);
      }
      model = next;
      candidates.insert(candidates.end(), prefixes.begin(), prefixes.end());
      if (!s.ok()) {
        crashed_in_op = true;
      } else if (sync) {
        durable();
      }
    } else if (kind < 8) {  // CreateSnapshot, sometimes followed by Compact
      if (model.last_index() <= model.snap_index) continue;
      const uint64_t index = rand.Range(model.snap_index + 1, model.last_index() + 1);
      const std::string data = "state@" + std::to_string(index);
      const uint64_t snap_term = model.entries[index - model.snap_index - 1].term();
      auto snap = storage->CreateSnapshot(index, nullptr, data);
      model.KeepAfterSnapshot(index, snap_term, data);
      candidates.push_back(model);
      if (!snap.ok()) {
        crashed_in_op = true;
        break;
      }
      durable();
      if (rand.Bernoulli(0.7)) {
        const uint64_t first = storage->FirstIndex();
        const uint64_t compact = rand.Range(std::min(first, index), index + 1);
        const absl::Status s = storage->Compact(compact);
        if (!s.ok() && !raft::IsCompacted(s)) crashed_in_op = true;
      }
    } else {  // ApplySnapshot from a "leader", possibly far ahead
      const uint64_t index = model.snap_index + 1 + rand.Uniform(model.entries.size() + 5);
      ++term;
      raftpb::Snapshot snap;
      snap.mutable_metadata()->set_index(index);
      snap.mutable_metadata()->set_term(term);
      snap.set_data("leader@" + std::to_string(index));
      const absl::Status s = storage->ApplySnapshot(snap);
      model.ReplaceBySnapshot(index, term, snap.data());
      candidates.push_back(model);
      if (!s.ok()) {
        crashed_in_op = true;
      } else {
        durable();
      }
    }
  }

  storage.reset();
  if (cut == PowerCut::kPagesInAnyOrder) {
    env.CrashWritingBackPagesInAnyOrder(/*page_bytes=*/8 << rand.Uniform(7));  // 8 B .. 512 B
  } else {
    env.Crash(/*tear_last_write=*/rand.Bernoulli(0.8));
  }
  auto reopened = DurableStorage::Open(&env, dir, options);
  if (!reopened.ok()) return "reopen: " + reopened.status().ToString();
  auto observed = Observe(**reopened);
  if (!observed.ok()) return "observe: " + observed.status().ToString();
  for (const ModelState& c : candidates) {
    if (Same(c, *observed)) return {};
  }
  std::string msg = "recovered " + Describe(*observed) + "\nallowed:";
  for (const ModelState& c : candidates) msg += "\n  " + Describe(c);
  return msg;
}

TEST(CrashConsistencyTest, RecoveredStateIsExactlyASyncedPrefixForRandomSequences) {
  const char* soak = std::getenv("RAFTKV_SOAK");
  const uint64_t sequences = soak != nullptr && std::string(soak) == "1" ? 100000 : 2000;
  for (uint64_t seed = 1; seed <= sequences; ++seed) {
    const std::string failure = RunSequence(seed);
    ASSERT_TRUE(failure.empty()) << "seed " << seed << ": " << failure;
  }
}

TEST(CrashConsistencyTest, RecoveredStateIsASyncedPrefixWhenPagesAreWrittenBackInAnyOrder) {
  const char* soak = std::getenv("RAFTKV_SOAK");
  const uint64_t sequences = soak != nullptr && std::string(soak) == "1" ? 100000 : 2000;
  for (uint64_t seed = 1; seed <= sequences; ++seed) {
    const std::string failure = RunSequence(seed, PowerCut::kPagesInAnyOrder);
    ASSERT_TRUE(failure.empty()) << "seed " << seed << ": " << failure;
  }
}

}  // namespace
}  // namespace raftkv::storage
