#include "storage/wal_committer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "io/env_wrapper.h"
#include "io/error_injection_env.h"
#include "io/fault_injection_env.h"
#include "storage/segment_scan.h"
#include "storage/test_util.h"

namespace raftkv::storage {
namespace {

// Forwards to a base Env, but holds every File::DataSync until the test lets it through, and
// counts writes and syncs, so a test can look at the committer while an fdatasync is running.
class GatedEnv final : public io::EnvWrapper {
 public:
  explicit GatedEnv(io::Env* base) : EnvWrapper(base) {}

  // Waits until `n` writes have returned / `n` DataSyncs have started since construction.
  void AwaitWrites(uint64_t n) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](Counts* c) { return c->writes >= c->wait_for; }, SetWait(n)));
  }
  void AwaitSyncsStarted(uint64_t n) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](Counts* c) { return c->syncs_started >= c->wait_for; }, SetWait(n)));
  }
  uint64_t writes() {
    absl::MutexLock lock(&mu_);
    return counts_.writes;
  }
  // Lets the next DataSync through.
  void ReleaseSync() {
    absl::MutexLock lock(&mu_);
    ++counts_.syncs_released;
  }

  absl::StatusOr<std::unique_ptr<io::File>> OpenFile(const std::string& path,
                                                     io::OpenMode mode) override {
    auto file = base()->OpenFile(path, mode);
    if (!file.ok()) return file.status();
    return std::unique_ptr<io::File>(new File(this, std::move(*file)));
  }

 private:
  struct Counts {
    uint64_t writes = 0, syncs_started = 0, syncs_released = 0, wait_for = 0;
  };
  class File final : public io::FileWrapper {
   public:
    File(GatedEnv* env, std::unique_ptr<io::File> base)
        : FileWrapper(std::move(base)), env_(env) {}
    absl::Status Append(std::string_view d) override { return Counted(base()->Append(d)); }
    absl::Status WriteAt(uint64_t o, std::string_view d) override {
      return Counted(base()->WriteAt(o, d));
    }
    absl::Status GatherWriteAt(uint64_t o, std::span<const std::string_view> p) override {
      return Counted(base()->GatherWriteAt(o, p));
    }
    // Sync (rolls and segment creation) passes straight through.
    absl::Status DataSync() override {
      {
        absl::MutexLock lock(&env_->mu_);
        const uint64_t mine = env_->counts_.syncs_started++;
        env_->mu_.Await(absl::Condition(
            +[](std::pair<Counts*, uint64_t>* a) { return a->first->syncs_released > a->second; },
            SyncArg(&env_->counts_, mine)));
      }
      return base()->DataSync();
    }

   private:
    std::pair<Counts*, uint64_t>* SyncArg(Counts* c, uint64_t n) {
      pair_ = {c, n};
      return &pair_;
    }
    absl::Status Counted(absl::Status s) {
      absl::MutexLock lock(&env_->mu_);
      ++env_->counts_.writes;
      return s;
    }
    GatedEnv* const env_;
    std::pair<Counts*, uint64_t> pair_;
  };

  Counts* SetWait(uint64_t n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    counts_.wait_for = n;
    return &counts_;
  }

  absl::Mutex mu_;
  Counts counts_ ABSL_GUARDED_BY(mu_);
};

constexpr int kThreads = 8;
constexpr int kPerThread = 40;

std::string Tag(int thread, int k) {
  return "w" + std::to_string(thread) + "-" + std::to_string(k);
}

// The data of every entry record in the WAL's segments, in log order, as the file system shows
// them now (after a Crash(): what was durable).
std::vector<std::string> EntryTagsInLog(io::FaultInjectionEnv& env,
                                        const std::vector<uint64_t>& seqs) {
  std::vector<std::string> tags;
  for (size_t i = 0; i < seqs.size(); ++i) {
    const std::string path = io::JoinPath("/data", SegmentFileName(seqs[i]));
    auto data = env.Contents(path);
    if (!data.ok()) continue;  // a roll that never became durable
    auto scan = ScanSegment(
        *data, path, /*is_newest=*/i + 1 == seqs.size(), [&](const DecodedRecord& r, uint64_t) {
          raftpb::Entry e;
          if (r.type == RecordType::kEntry &&
              e.ParseFromArray(r.payload.data(), static_cast<int>(r.payload.size()))) {
            tags.push_back(e.data());
          }
          return absl::OkStatus();
        });
    EXPECT_TRUE(scan.ok()) << scan.status();
  }
  return tags;
}

// kThreads writers each commit kPerThread one-entry batches (entry data = Tag(thread, k); the
// indexes do not matter to the scan). Returns what each call returned.
struct RunResult {
  std::set<std::string> acked;
  std::set<std::string> failed;
  bool ok_after_failure = false;  // some thread got OK after an error
};

RunResult RunWriters(WalCommitter& committer) {
  RunResult result;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      bool failed = false;
      for (int k = 0; k < kPerThread; ++k) {
        WalBatch batch;
        batch.AddEntry(testing::MakeEntry(1, 1, Tag(t, k)));
        const absl::Status s = committer.Commit(batch);
        std::lock_guard lock(mu);
        (s.ok() ? result.acked : result.failed).insert(Tag(t, k));
        if (s.ok() && failed) result.ok_after_failure = true;
        failed = failed || !s.ok();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return result;
}

// Acknowledged batches are a prefix of the log: no batch is acknowledged while one written
// before it is not.
void ExpectAckedArePrefix(const std::vector<std::string>& written, const RunResult& r) {
  size_t i = 0;
  while (i < written.size() && r.acked.count(written[i]) > 0) ++i;
  EXPECT_EQ(i, r.acked.size()) << "a batch was acknowledged before one written ahead of it";
}

TEST(WalCommitterTest, ConcurrentCommitsAreAllDurableWithAtMostOneSyncEach) {
  io::FaultInjectionEnv env(3);
  WalRecovery rec;
  auto wal = Wal::Open(&env, "/data", WalOptions{.segment_bytes = 1 << 20}, &rec);
  ASSERT_TRUE(wal.ok());
  WalCommitter committer(wal->get());
  const uint64_t syncs_before = env.file_syncs();
  const RunResult r = RunWriters(committer);
  EXPECT_TRUE(r.failed.empty());
  EXPECT_EQ(r.acked.size(), size_t{kThreads * kPerThread});
  EXPECT_LE(committer.syncs(), uint64_t{kThreads * kPerThread});
  EXPECT_LE(committer.syncs(), committer.writes() + 1);
  EXPECT_EQ(env.file_syncs() - syncs_before, committer.syncs());

  const std::vector<uint64_t> seqs = (*wal)->segment_seqs();
  wal->reset();
  env.Crash();
  const std::vector<std::string> durable = EntryTagsInLog(env, seqs);
  EXPECT_EQ(std::set<std::string>(durable.begin(), durable.end()), r.acked);
}

// Power fails at many points of a concurrent run, with small segments so that rolls happen
// under load: whatever was acknowledged is on disk afterwards, acknowledgements came in log
// order, and after the first error nobody is told OK.
TEST(WalCommitterTest, ACrashAfterAnAcknowledgementNeverLosesTheAcknowledgedBatch) {
  for (uint64_t crash_after : {5, 20, 60, 150, 400}) {
    SCOPED_TRACE("crash after " + std::to_string(crash_after) + " operations");
    io::FaultInjectionEnv env(crash_after);
    WalRecovery rec;
    auto wal = Wal::Open(&env, "/data", WalOptions{.segment_bytes = 4096}, &rec);
    ASSERT_TRUE(wal.ok());
    WalCommitter committer(wal->get());
    env.CrashAfter(crash_after);
    const RunResult r = RunWriters(committer);
    EXPECT_FALSE(r.ok_after_failure);
    EXPECT_TRUE(r.failed.empty() || !(*wal)->health().ok());

    const std::vector<uint64_t> seqs = (*wal)->segment_seqs();
    const std::vector<std::string> written = EntryTagsInLog(env, seqs);
    ExpectAckedArePrefix(written, r);
    wal->reset();
    env.Crash();
    const std::vector<std::string> durable = EntryTagsInLog(env, seqs);
    const std::set<std::string> durable_set(durable.begin(), durable.end());
    for (const std::string& tag : r.acked) EXPECT_EQ(durable_set.count(tag), 1u) << tag;
    auto reopened = Wal::Open(&env, "/data", WalOptions{.segment_bytes = 4096}, &rec);
    EXPECT_TRUE(reopened.ok()) << reopened.status();
  }
}

// A failed fsync may have dropped the pages it was to write, so nothing it was to cover may be
// acknowledged, it is never retried, and every caller from then on gets the error.
TEST(WalCommitterTest, AFailedSyncFailsEveryPendingAndLaterCallerAndIsNeverRetried) {
  for (uint64_t nth : {1, 2, 5, 12}) {
    SCOPED_TRACE("fsync " + std::to_string(nth) + " fails");
    io::FaultInjectionEnv env(nth);
    io::ErrorInjectionEnv errors(&env);
    WalRecovery rec;
    auto wal = Wal::Open(&errors, "/data", WalOptions{.segment_bytes = 1 << 20}, &rec);
    ASSERT_TRUE(wal.ok());
    WalCommitter committer(wal->get());
    const uint64_t syncs_before = errors.count(io::EnvOp::kSync);
    errors.FailNth(io::EnvOp::kSync, nth, EIO);
    const RunResult r = RunWriters(committer);
    EXPECT_FALSE(r.failed.empty());
    EXPECT_FALSE(r.ok_after_failure);
    EXPECT_EQ(errors.count(io::EnvOp::kSync) - syncs_before, nth);  // none after the failure
    EXPECT_FALSE((*wal)->health().ok());
    WalBatch later;
    later.AddEntry(testing::MakeEntry(1, 1, "later"));
    EXPECT_FALSE(committer.Commit(later).ok());

    const std::vector<uint64_t> seqs = (*wal)->segment_seqs();
    ExpectAckedArePrefix(EntryTagsInLog(env, seqs), r);
    wal->reset();
    env.Crash(/*tear_last_write=*/false);
    const std::vector<std::string> durable = EntryTagsInLog(env, seqs);
    const std::set<std::string> durable_set(durable.begin(), durable.end());
    for (const std::string& tag : r.acked) EXPECT_EQ(durable_set.count(tag), 1u) << tag;
  }
}

// The pipeline itself: while the fdatasync for batch a runs, batch b is written (not just
// queued), a is not acknowledged before its fdatasync returns, and b gets a sync of its own
// that starts after its write.
TEST(WalCommitterTest, TheNextGroupIsWrittenWhileTheCurrentOneIsBeingSynced) {
  io::FaultInjectionEnv base(5);
  GatedEnv env(&base);
  WalRecovery rec;
  auto wal = Wal::Open(&env, "/data", WalOptions{.segment_bytes = 1 << 20}, &rec);
  ASSERT_TRUE(wal.ok());
  WalCommitter committer(wal->get());
  const uint64_t writes_before = env.writes();  // the segment header
  WalBatch a, b;
  a.AddEntry(testing::MakeEntry(1, 1, "a"));
  b.AddEntry(testing::MakeEntry(2, 1, "b"));
  std::atomic<bool> a_done{false}, b_done{false};

  std::thread ta([&] {
    EXPECT_TRUE(committer.Commit(a).ok());
    a_done = true;
  });
  env.AwaitSyncsStarted(1);  // a is written and its fdatasync is held
  std::thread tb([&] {
    EXPECT_TRUE(committer.Commit(b).ok());
    b_done = true;
  });
  env.AwaitWrites(writes_before + 2);  // b was written while a's sync is still running
  EXPECT_FALSE(a_done.load());
  EXPECT_FALSE(b_done.load());
  env.ReleaseSync();
  ta.join();  // a: acknowledged after its fdatasync returned
  env.AwaitSyncsStarted(2);
  EXPECT_FALSE(b_done.load());  // its bytes may be on disk already, but that is not proven
  env.ReleaseSync();
  tb.join();
  EXPECT_EQ(committer.writes(), 2u);
  EXPECT_EQ(committer.syncs(), 2u);
}

}  // namespace
}  // namespace raftkv::storage
