// Differential test: a Store on the MemoryEngine and a Store on the RocksDbEngine receive the same
// seeded random sequence of requests (puts, deletes, txns with compares, compactions, leases,
// alarms, empty entries; puts, deletes and txns also in client sessions: new sequences, retries,
// stale sequences, sessions expired by log time) and must give the same answer to every request
// and every read (ranges at past revisions with limits, sorts and filters, read-only txns,
// HashKV, event pages, leases, alarms, sessions), and the same snapshot bytes at intervals. Both
// are restored now and then from an earlier snapshot. The RocksDB store is closed and reopened from
// its directory now and then and must carry on where it was. A second test runs sequences with
// more compactions, each dropping old versions from disk in steps of one revision log record
// per entry. RAFTKV_SOAK=1 runs 30 sequences of 2,000 steps instead of 3 of 300, for each.
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/rand.h"
#include "gtest/gtest.h"
#include "kv/engine_test_util.h"
#include "kv/rocksdb_engine.h"
#include "kv/session.h"
#include "kv/store.h"
#include "kv/store_test_util.h"

namespace raftkv::kv {
namespace {

using std::string_literals::operator""s;
using etcdserverpb::Compare;
using etcdserverpb::RangeRequest;
using etcdserverpb::TxnRequest;

// Keys that are prefixes of each other and hold 0x00 and 0xFF bytes, so that the RocksDB
// engine's key encoding is exercised where it could go wrong.
const std::vector<std::string> kKeys = {"a"s,   "a\0"s, "a\0\0"s, "a\x01"s, "a\xff"s, "ab"s,
                                        "abc"s, "b"s,   "b\0b"s,  "ba"s,    "c"s,     "\xff"s};

template <typename T>
std::string Answer(const absl::StatusOr<T>& result) {
  if (!result.ok()) return "error: " + result.status().ToString();
  return result->ShortDebugString();
}

class Sequence {
 public:
  // `engine_options` for the RocksDB store; `compaction_heavy` adds a compaction in one of the
  // steps that would only read.
  Sequence(uint64_t seed, std::string dir, RocksDbEngine::Options engine_options = {},
           bool compaction_heavy = false)
      : rand_(seed),
        sessions_rand_(seed ^ 0x5e55),
        compaction_rand_(seed ^ 0xc0c0),
        dir_(std::move(dir)),
        engine_options_(engine_options),
        compaction_heavy_(compaction_heavy) {
    Reopen();
  }

  // One random step: a request through both stores, then reads on both.
  void Step() {
    switch (rand_.Next() % 20) {
      case 0:
      case 1:
      case 2:
      case 3:
      case 4:
      case 5:
        Apply(MaybeInSession(Wrap(RandomPut())));
        break;
      case 6:
      case 7:
        Apply(MaybeInSession(Wrap(RandomDelete())));
        break;
      case 8:
      case 9:
      case 10:
      case 11:
        Apply(MaybeInSession(Wrap(RandomTxn(/*depth=*/0, /*read_only=*/false))));
        break;
      case 12:
        Apply(testing::CompactReq(RandomRevision()));
        break;
      case 17:
        // From a stream of its own, so that every other request is the default sequence's.
        if (compaction_heavy_) Apply(testing::CompactReq(RandomRevision(compaction_rand_)));
        break;
      case 13: {
        kvpb::Request request;
        request.mutable_lease_grant()->set_id(RandomLease());
        request.mutable_lease_grant()->set_ttl(static_cast<int64_t>(rand_.Next() % 100));
        Apply(request);
        break;
      }
      case 14: {
        kvpb::Request request;
        request.mutable_lease_revoke()->set_id(RandomLease());
        Apply(request);
        break;
      }
      case 15: {
        // Raising NOSPACE is rare and disarming it frequent, so that most writes still apply.
        kvpb::Request request;
        auto* alarm = request.mutable_alarm();
        alarm->set_memberid(1 + rand_.Next() % 2);
        alarm->set_alarm(etcdserverpb::NOSPACE);
        alarm->set_action(rand_.Next() % 4 == 0 ? etcdserverpb::AlarmRequest::ACTIVATE
                                                : etcdserverpb::AlarmRequest::DEACTIVATE);
        Apply(request);
        break;
      }
      case 16:
        ++index_;
        memory_.MarkApplied(index_);
        disk_->MarkApplied(index_);
        break;
      default:
        break;  // reads only
    }
    CompareReads();
    if (disk_engine_->compaction_in_progress()) ++coverage_.steps_mid_compaction;
  }

  void Reopen() {
    disk_.reset();
    absl::StatusOr<std::unique_ptr<RocksDbEngine>> engine =
        RocksDbEngine::Open(dir_, engine_options_);
    ASSERT_TRUE(engine.ok()) << engine.status();
    disk_engine_ = engine->get();
    disk_ = std::make_unique<Store>(*std::move(engine));
  }

  void CompareSnapshots() {
    saved_snapshot_ = memory_.Snapshot();
    ASSERT_EQ(disk_->Snapshot(), saved_snapshot_) << "snapshots differ";
  }

  // Restores both stores from the snapshot CompareSnapshots saved last, which is older than
  // their state (a member installing a leader's snapshot replaces everything it had).
  void RestoreBothFromSavedSnapshot() {
    if (saved_snapshot_.empty()) return;
    ASSERT_TRUE(memory_.Restore(saved_snapshot_).ok());
    ASSERT_TRUE(disk_->Restore(saved_snapshot_).ok());
    index_ = memory_.applied_index();
    ++coverage_.restores;
  }

  // What the sequence exercised, so that a generator that stopped producing some kind of request
  // (every txn rejected, no compaction ever valid) fails the test instead of passing it idly.
  struct Coverage {
    std::map<int, int> applied;    // successful requests by kvpb::Request::op_case()
    std::map<int, int> wrote;      // ... that moved the revision
    int events = 0;                // events returned by Events
    int prev_kvs = 0;              // ... that carried a previous version
    int restores = 0;              // snapshot restores
    int session_replays = 0;       // retries answered from a session
    int session_refusals = 0;      // stale sequences and sequences without a session, refused
    int session_expiries = 0;      // steps after which the log clock had dropped a session
    int steps_mid_compaction = 0;  // steps after which the RocksDB engine was still compacting
  };
  const Coverage& coverage() const { return coverage_; }

 private:
  static kvpb::Request Wrap(auto request) { return testing::Wrap(std::move(request)); }

  // Half of the writes go through one of a few client sessions, as a client would send them: its
  // next sequence mostly, else a retry of the last one, a stale one, or a sequence whose session
  // the log clock may have expired (the clock jumps past the TTL now and then).
  kvpb::Request MaybeInSession(kvpb::Request request) {
    if (sessions_rand_.Next() % 2 == 0) return request;
    const uint64_t client = 1 + sessions_rand_.Next() % kClients;
    uint64_t& last = last_sequence_[client];
    const uint64_t roll = sessions_rand_.Next() % 10;
    if (roll < 5 || last == 0) {
      last += 1 + sessions_rand_.Next() % 2;  // sequences may skip; the first is 1 or 2
    } else if (roll == 5 && last > 1) {
      --last;  // an old copy arriving late
    } else if (roll == 6) {
      last = 1;  // the first sequence again: stale, or a new session if the old one expired
    }            // otherwise: a retry of the last sequence
    log_clock_ms_ +=
        sessions_rand_.Next() % 50 == 0 ? kSessionTtlMs + 1 : sessions_rand_.Next() % 1000;
    request.set_client_id(client);
    request.set_sequence(last);
    // Proposers' clocks differ a little.
    request.set_time_ms(log_clock_ms_ - static_cast<int64_t>(sessions_rand_.Next() % 50));
    return request;
  }

  void Apply(const kvpb::Request& request) {
    ++index_;
    const int64_t revision = memory_.revision();
    const size_t sessions = memory_.session_count();
    const uint64_t remembered = memory_.SessionSequence(request.client_id()).value_or(0);
    const absl::StatusOr<kvpb::Response> response = memory_.Apply(request, index_);
    const std::string want = Answer(response);
    const std::string got = Answer(disk_->Apply(request, index_));
    ASSERT_EQ(got, want) << "request " << request.ShortDebugString();
    if (request.client_id() != 0) {
      if (memory_.session_count() < sessions) ++coverage_.session_expiries;
      if (request.sequence() == remembered && memory_.revision() == revision) {
        ++coverage_.session_replays;
      }
      const std::string error(response.status().message());
      if (error.starts_with("raftkv: stale sequence") ||
          error.starts_with("raftkv: session not found")) {
        ++coverage_.session_refusals;
      }
      // A client told its session is gone starts over, as raftkv's clients do.
      if (error.starts_with("raftkv: session not found")) last_sequence_[request.client_id()] = 0;
    }
    if (!response.ok()) return;
    ++coverage_.applied[request.op_case()];
    if (memory_.revision() > revision) ++coverage_.wrote[request.op_case()];
  }

  const std::string& RandomKey() { return kKeys[rand_.Next() % kKeys.size()]; }
  int64_t RandomLease() { return 1 + static_cast<int64_t>(rand_.Next() % 4); }
  // Around the readable revisions, including one compacted and one future revision.
  int64_t RandomRevision() { return RandomRevision(rand_); }
  int64_t RandomRevision(base::Rand& rand) {
    const int64_t low = std::max<int64_t>(memory_.compact_revision() - 1, 0);
    const int64_t high = memory_.revision() + 1;
    return low + static_cast<int64_t>(rand.Next() % (high - low + 1));
  }
  // A range_end for RandomKey: one key, the keys after it, a later key, or an empty range.
  std::string RandomRangeEnd() {
    switch (rand_.Next() % 4) {
      case 0:
        return "";
      case 1:
        return "\0"s;
      default:
        return RandomKey();
    }
  }

  etcdserverpb::PutRequest RandomPut() {
    etcdserverpb::PutRequest put = testing::PutReq(
        RandomKey(), std::string(rand_.Next() % 3, 'v') + std::to_string(rand_.Next() % 100));
    if (rand_.Next() % 4 == 0) put.set_lease(RandomLease());
    if (rand_.Next() % 3 == 0) put.set_prev_kv(true);
    if (rand_.Next() % 12 == 0) {
      put.clear_value();
      put.set_ignore_value(true);
    }
    if (rand_.Next() % 12 == 0) {
      put.clear_lease();
      put.set_ignore_lease(true);
    }
    return put;
  }

  etcdserverpb::DeleteRangeRequest RandomDelete() {
    etcdserverpb::DeleteRangeRequest del = testing::DelReq(RandomKey(), RandomRangeEnd());
    if (rand_.Next() % 2 == 0) del.set_prev_kv(true);
    return del;
  }

  RangeRequest RandomRange() {
    RangeRequest range = testing::RangeReq(RandomKey(), RandomRangeEnd());
    if (rand_.Next() % 2 == 0) range.set_revision(RandomRevision());
    if (rand_.Next() % 3 == 0) range.set_limit(1 + static_cast<int64_t>(rand_.Next() % 3));
    if (rand_.Next() % 8 == 0) range.set_count_only(true);
    if (rand_.Next() % 8 == 0) range.set_keys_only(true);
    if (rand_.Next() % 4 == 0) {
      range.set_sort_order(static_cast<RangeRequest::SortOrder>(rand_.Next() % 3));
      range.set_sort_target(static_cast<RangeRequest::SortTarget>(rand_.Next() % 5));
    }
    if (rand_.Next() % 6 == 0) range.set_min_mod_revision(RandomRevision());
    if (rand_.Next() % 6 == 0) range.set_max_create_revision(RandomRevision());
    return range;
  }

  Compare RandomCompare() {
    Compare compare;
    compare.set_key(RandomKey());
    if (rand_.Next() % 4 == 0) compare.set_range_end(RandomRangeEnd());
    compare.set_result(static_cast<Compare::CompareResult>(rand_.Next() % 4));
    compare.set_target(static_cast<Compare::CompareTarget>(rand_.Next() % 5));
    switch (compare.target()) {
      case Compare::VERSION:
        compare.set_version(rand_.Next() % 3);
        break;
      case Compare::CREATE:
        compare.set_create_revision(RandomRevision());
        break;
      case Compare::MOD:
        compare.set_mod_revision(RandomRevision());
        break;
      case Compare::VALUE:
        compare.set_value(std::to_string(rand_.Next() % 100));
        break;
      case Compare::LEASE:
        compare.set_lease(rand_.Next() % 3);
        break;
      default:
        break;
    }
    return compare;
  }

  TxnRequest RandomTxn(int depth, bool read_only) {
    TxnRequest txn;
    for (uint64_t i = rand_.Next() % 3; i > 0; --i) *txn.add_compare() = RandomCompare();
    for (auto* branch : {txn.mutable_success(), txn.mutable_failure()}) {
      for (uint64_t i = rand_.Next() % 4; i > 0; --i) {
        etcdserverpb::RequestOp& op = *branch->Add();
        // Deletes only at the top: nested deletes make most txns overlap their own writes and
        // be refused as duplicates (validation is the store's, the same on both engines, and
        // store_txn_test checks it), and then too few txns write.
        const uint64_t kinds = read_only ? 2 : (depth == 0 ? 4 : 3);
        switch (rand_.Next() % kinds) {
          case 0:
            *op.mutable_request_range() = RandomRange();
            break;
          case 1:
            if (depth < 2) {
              *op.mutable_request_txn() = RandomTxn(depth + 1, read_only);
            } else {
              *op.mutable_request_range() = RandomRange();
            }
            break;
          case 2:
            *op.mutable_request_put() = RandomPut();
            break;
          default:
            *op.mutable_request_delete_range() = RandomDelete();
            break;
        }
      }
    }
    return txn;
  }

  void CompareReads() {
    ASSERT_EQ(disk_->revision(), memory_.revision());
    ASSERT_EQ(disk_->compact_revision(), memory_.compact_revision());
    ASSERT_EQ(disk_->applied_index(), memory_.applied_index());
    ASSERT_EQ(disk_->size_bytes(), memory_.size_bytes());
    ASSERT_EQ(disk_->live_keys(), memory_.live_keys());
    ASSERT_EQ(disk_->lease_count(), memory_.lease_count());
    ASSERT_EQ(disk_->space_exceeded(), memory_.space_exceeded());
    ASSERT_EQ(disk_->session_count(), memory_.session_count());
    ASSERT_EQ(disk_->session_bytes(), memory_.session_bytes());
    ASSERT_EQ(disk_->log_clock_ms(), memory_.log_clock_ms());
    for (uint64_t client = 1; client <= kClients; ++client) {
      ASSERT_EQ(disk_->SessionSequence(client), memory_.SessionSequence(client))
          << "client " << client;
    }
    for (int i = 0; i < 3; ++i) {
      const RangeRequest range = RandomRange();
      ASSERT_EQ(Answer(disk_->Range(range)), Answer(memory_.Range(range)))
          << "range " << range.ShortDebugString();
    }
    const TxnRequest txn = RandomTxn(0, /*read_only=*/true);
    ASSERT_EQ(Answer(disk_->ReadTxn(txn)), Answer(memory_.ReadTxn(txn)))
        << "txn " << txn.ShortDebugString();
    for (int64_t revision : {int64_t{0}, RandomRevision()}) {
      auto want = memory_.HashKV(revision);
      auto got = disk_->HashKV(revision);
      ASSERT_EQ(got.ok(), want.ok()) << "HashKV at " << revision;
      if (want.ok()) {
        ASSERT_EQ(got->hash, want->hash) << "HashKV at " << revision;
        ASSERT_EQ(got->revision, want->revision);
        ASSERT_EQ(got->compact_revision, want->compact_revision);
      }
    }
    {
      const std::string key = RandomKey();
      const std::string end = RandomRangeEnd();
      const int64_t from = RandomRevision() - 1;
      const int64_t to = from + 1 + static_cast<int64_t>(rand_.Next() % 10);
      const bool prev_kv = rand_.Next() % 2 == 0;
      const size_t limit = 1 + rand_.Next() % 6;
      auto want = memory_.Events(key, end, from, to, prev_kv, limit);
      auto got = disk_->Events(key, end, from, to, prev_kv, limit);
      ASSERT_EQ(got.ok(), want.ok()) << "events from " << from;
      if (want.ok()) {
        coverage_.events += static_cast<int>(want->events.size());
        for (const auto& event : want->events) coverage_.prev_kvs += event.has_prev_kv() ? 1 : 0;
        ASSERT_EQ(got->through, want->through) << "events from " << from;
        ASSERT_EQ(got->events.size(), want->events.size()) << "events from " << from;
        for (size_t i = 0; i < want->events.size(); ++i) {
          ASSERT_EQ(got->events[i].ShortDebugString(), want->events[i].ShortDebugString());
        }
      }
    }
    for (int64_t id = 1; id <= 4; ++id) {
      auto want = memory_.FindLease(id, true);
      auto got = disk_->FindLease(id, true);
      ASSERT_EQ(got.has_value(), want.has_value()) << "lease " << id;
      if (want) {
        ASSERT_EQ(got->ttl, want->ttl);
        ASSERT_EQ(got->keys, want->keys) << "keys of lease " << id;
      }
    }
    ASSERT_EQ(disk_->Leases().size(), memory_.Leases().size());
    auto alarms = [](const Store& store) {
      std::string out;
      for (const auto& alarm : store.Alarms()) out += alarm.ShortDebugString() + ";";
      return out;
    };
    ASSERT_EQ(alarms(*disk_), alarms(memory_));
  }

  static constexpr uint64_t kClients = 3;

  base::Rand rand_;
  // Session choices draw from their own stream, so that the requests are those of the
  // sequences without sessions.
  base::Rand sessions_rand_;
  // The extra compactions of a compaction-heavy sequence draw from their own stream too.
  base::Rand compaction_rand_;
  std::string dir_;
  RocksDbEngine::Options engine_options_;
  bool compaction_heavy_;
  // What each client sent last, and the time the proposers stamp.
  std::map<uint64_t, uint64_t> last_sequence_;
  int64_t log_clock_ms_ = 1'700'000'000'000;
  uint64_t index_ = 0;
  Store memory_;
  std::unique_ptr<Store> disk_;
  RocksDbEngine* disk_engine_ = nullptr;  // disk_'s
  std::string saved_snapshot_;
  Coverage coverage_;
};

void RunSeed(uint64_t seed, int steps, RocksDbEngine::Options engine_options = {},
             bool compaction_heavy = false) {
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  testing::TempDir dir;
  Sequence sequence(seed, dir.path(), engine_options, compaction_heavy);
  if (::testing::Test::HasFatalFailure()) return;
  base::Rand events(seed ^ 0x5eed);
  for (int step = 0; step < steps; ++step) {
    SCOPED_TRACE(::testing::Message() << "step " << step);
    sequence.Step();
    if (::testing::Test::HasFatalFailure()) return;
    const uint64_t roll = events.Next() % 100;
    if (roll < 3) {
      sequence.Reopen();
    } else if (roll < 8) {
      sequence.CompareSnapshots();
    } else if (roll < 10) {
      sequence.RestoreBothFromSavedSnapshot();
    }
    if (::testing::Test::HasFatalFailure()) return;
  }
  sequence.Reopen();
  if (::testing::Test::HasFatalFailure()) return;
  sequence.CompareSnapshots();

  const Sequence::Coverage& coverage = sequence.coverage();
  for (auto op : {kvpb::Request::kPut, kvpb::Request::kDeleteRange, kvpb::Request::kTxn,
                  kvpb::Request::kLeaseRevoke}) {
    EXPECT_GT(coverage.wrote.count(op) ? coverage.wrote.at(op) : 0, 0)
        << "no request of kind " << op << " wrote anything";
  }
  for (auto op : {kvpb::Request::kCompaction, kvpb::Request::kLeaseGrant, kvpb::Request::kAlarm}) {
    EXPECT_GT(coverage.applied.count(op) ? coverage.applied.at(op) : 0, 0)
        << "no request of kind " << op << " applied";
  }
  EXPECT_GT(coverage.events, 0);
  EXPECT_GT(coverage.prev_kvs, 0);
  EXPECT_GT(coverage.restores, 0);
  EXPECT_GT(coverage.session_replays, 0);
  EXPECT_GT(coverage.session_refusals, 0);
  EXPECT_GT(coverage.session_expiries, 0);
  if (compaction_heavy) {
    EXPECT_GT(coverage.steps_mid_compaction, steps / 10);
  }
}

TEST(EngineDifferential, RocksDbStoreAnswersAsTheMemoryStoreThroughReopens) {
  const bool soak = std::getenv("RAFTKV_SOAK") != nullptr;
  const int seeds = soak ? 30 : 3;
  const int steps = soak ? 2000 : 300;
  for (int seed = 1; seed <= seeds; ++seed) {
    RunSeed(static_cast<uint64_t>(seed), steps);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// Compactions walk one revision log record per commit, so that many entries are applied while
// the walk of an earlier compaction still has obsolete versions on disk (more than one step in
// ten, checked), compactions take over each other's walks, and reopens and restores land in the
// middle of one.
TEST(EngineDifferential, RocksDbStoreCompactingInSmallStepsAnswersAsTheMemoryStore) {
  const bool soak = std::getenv("RAFTKV_SOAK") != nullptr;
  const int seeds = soak ? 30 : 3;
  const int steps = soak ? 2000 : 300;
  RocksDbEngine::Options options;
  options.compaction_records_per_commit = 1;
  for (int seed = 1; seed <= seeds; ++seed) {
    RunSeed(static_cast<uint64_t>(seed), steps, options, /*compaction_heavy=*/true);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace raftkv::kv
