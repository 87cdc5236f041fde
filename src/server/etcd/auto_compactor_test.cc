// etcd 3.4's automatic compaction (etcdserver/api/v3compactor and its tests), driven by a fake
// clock: the flags' meaning, periodic and revision mode's schedules and revisions, leader-only
// compaction, retries, and the thread that runs it against the real clock.
#include "server/etcd/auto_compactor.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "kv/store.h"

namespace raftkv::server::etcd {
namespace {

constexpr uint64_t kSelf = 1;
constexpr uint64_t kOther = 2;

// A member's store and leadership; every compaction arrives as a replicated write, which it
// records and applies (so etcd's "already compacted" answer is the store's own).
class FakeBackend final : public Backend {
 public:
  void Write(kvpb::Request request, absl::Time, WriteDone done) override {
    absl::StatusOr<kvpb::Response> result;
    {
      absl::MutexLock lock(&mu_);
      EXPECT_TRUE(request.has_compaction()) << request.ShortDebugString();
      compactions_.push_back(request.compaction().revision());
      if (!fail_writes_.ok()) {
        result = fail_writes_;
      } else {
        result = store_.Apply(request, store_.applied_index() + 1);
      }
    }
    done(std::move(result));
  }
  void WaitLinearizable(absl::Time, WaitDone done) override { done(absl::OkStatus()); }
  void Read(absl::FunctionRef<void(const kv::Store&)> fn) override {
    absl::MutexLock lock(&mu_);
    fn(store_);
  }
  NodeInfo Info() override {
    absl::MutexLock lock(&mu_);
    NodeInfo info;
    info.member_id = kSelf;
    info.leader_id = leader_;
    return info;
  }

  // Writes keys until the store's revision is `revision`.
  void AdvanceTo(int64_t revision) {
    absl::MutexLock lock(&mu_);
    while (store_.revision() < revision) {
      kvpb::Request put;
      put.mutable_put()->set_key("k");
      put.mutable_put()->set_value("v");
      ASSERT_TRUE(store_.Apply(put, store_.applied_index() + 1).ok());
    }
  }
  int64_t revision() {
    absl::MutexLock lock(&mu_);
    return store_.revision();
  }
  void Compact(int64_t revision) {
    absl::MutexLock lock(&mu_);
    kvpb::Request request;
    request.mutable_compaction()->set_revision(revision);
    ASSERT_TRUE(store_.Apply(request, store_.applied_index() + 1).ok());
  }
  void SetLeader(uint64_t leader) {
    absl::MutexLock lock(&mu_);
    leader_ = leader;
  }
  void FailWrites(absl::Status status) {
    absl::MutexLock lock(&mu_);
    fail_writes_ = std::move(status);
  }
  // Every compaction asked for, in order; then forgets them.
  std::vector<int64_t> TakeCompactions() {
    absl::MutexLock lock(&mu_);
    return std::exchange(compactions_, {});
  }
  bool CompactedAtLeastTo(int64_t revision) {
    absl::MutexLock lock(&mu_);
    return store_.compact_revision() >= revision;
  }
  // Waits until the store is compacted at `revision` or later; false after `timeout`.
  bool AwaitCompactedTo(int64_t revision, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    awaited_ = revision;
    return mu_.AwaitWithTimeout(absl::Condition(this, &FakeBackend::ReachedAwaited), timeout);
  }

 private:
  bool ReachedAwaited() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return store_.compact_revision() >= awaited_;
  }

  absl::Mutex mu_;
  int64_t awaited_ ABSL_GUARDED_BY(mu_) = 0;
  kv::Store store_ ABSL_GUARDED_BY(mu_);
  uint64_t leader_ ABSL_GUARDED_BY(mu_) = kSelf;
  absl::Status fail_writes_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> compactions_ ABSL_GUARDED_BY(mu_);
};

const absl::Time kStart = absl::FromUnixSeconds(1700000000);

AutoCompactionPolicy Periodic(absl::Duration retention) {
  return {.mode = AutoCompactionPolicy::Mode::kPeriodic, .retention = retention};
}
AutoCompactionPolicy Revisions(int64_t revisions) {
  return {.mode = AutoCompactionPolicy::Mode::kRevision, .revisions = revisions};
}

// --- The flags ---

TEST(ParseAutoCompaction, ABareNumberIsHoursInPeriodicMode) {
  auto policy = ParseAutoCompaction("periodic", "1");
  ASSERT_TRUE(policy.ok()) << policy.status();
  ASSERT_TRUE(policy->has_value());
  EXPECT_EQ((*policy)->mode, AutoCompactionPolicy::Mode::kPeriodic);
  EXPECT_EQ((*policy)->retention, absl::Hours(1));
}

TEST(ParseAutoCompaction, PeriodicModeTakesAGoDuration) {
  for (const auto& [text, expected] :
       std::vector<std::pair<const char*, absl::Duration>>{{"30m", absl::Minutes(30)},
                                                           {"1h30m", absl::Minutes(90)},
                                                           {"1.5h", absl::Minutes(90)},
                                                           {"10s", absl::Seconds(10)}}) {
    auto policy = ParseAutoCompaction("periodic", text);
    ASSERT_TRUE(policy.ok()) << text << ": " << policy.status();
    ASSERT_TRUE(policy->has_value()) << text;
    EXPECT_EQ((*policy)->retention, expected) << text;
  }
}

TEST(ParseAutoCompaction, ABareNumberIsRevisionsInRevisionMode) {
  auto policy = ParseAutoCompaction("revision", "1000");
  ASSERT_TRUE(policy.ok()) << policy.status();
  ASSERT_TRUE(policy->has_value());
  EXPECT_EQ((*policy)->mode, AutoCompactionPolicy::Mode::kRevision);
  EXPECT_EQ((*policy)->revisions, 1000);
  EXPECT_EQ((*policy)->revision_check_interval, absl::Minutes(5));
}

TEST(ParseAutoCompaction, ZeroRetentionTurnsItOff) {
  for (const auto& [mode, retention] : std::vector<std::pair<const char*, const char*>>{
           {"periodic", "0"}, {"revision", "0"}, {"periodic", "0s"}, {"periodic", ""}}) {
    auto policy = ParseAutoCompaction(mode, retention);
    ASSERT_TRUE(policy.ok()) << mode << " " << retention << ": " << policy.status();
    EXPECT_FALSE(policy->has_value()) << mode << " " << retention;
  }
}

TEST(ParseAutoCompaction, WrongValuesAreRefusedNamingTheFlag) {
  auto mode = ParseAutoCompaction("hourly", "1");
  EXPECT_EQ(mode.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(mode.status().message().find("--auto-compaction-mode"), std::string::npos);
  for (const auto& [m, retention] :
       std::vector<std::pair<const char*, const char*>>{{"periodic", "-1"},
                                                        {"periodic", "-1h"},
                                                        {"periodic", "soon"},
                                                        {"revision", "1h"},
                                                        {"revision", "-5"},
                                                        {"periodic", "inf"}}) {
    auto policy = ParseAutoCompaction(m, retention);
    EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument) << m << " " << retention;
    EXPECT_NE(policy.status().message().find("--auto-compaction-retention"), std::string::npos)
        << policy.status();
  }
}

// --- Periodic mode ---

// Steps a periodic compactor sample by sample, one new revision per sample as etcd's tests do,
// and returns the compactions of each step.
struct PeriodicRun {
  PeriodicRun(FakeBackend& backend, absl::Duration retention, absl::Duration sample)
      : backend(backend), sample(sample), compactor(&backend, Periodic(retention), kStart) {}

  // The compactions asked for at step k (time kStart + k * sample).
  std::vector<int64_t> Step() {
    ++k;
    backend.AdvanceTo(backend.revision() + 1);
    const absl::Time next = compactor.Check(kStart + k * sample);
    EXPECT_EQ(next, kStart + (k + 1) * sample);
    return backend.TakeCompactions();
  }

  FakeBackend& backend;
  const absl::Duration sample;
  AutoCompactor compactor;
  int k = 0;
};

TEST(AutoCompactorPeriodic, HourlyRetentionCompactsFirstAfterTheRetentionThenEveryHour) {
  // etcd's TestPeriodicHourly: retention 2h, a sample every 6 minutes.
  FakeBackend backend;
  PeriodicRun run(backend, absl::Hours(2), absl::Minutes(6));
  for (int i = 1; i < 20; ++i) EXPECT_TRUE(run.Step().empty()) << "at step " << i;
  // Two hours: the revision of the first sample (at start, revision 1).
  EXPECT_EQ(run.Step(), std::vector<int64_t>{1});
  for (int hour = 1; hour <= 3; ++hour) {
    for (int i = 1; i < 10; ++i) EXPECT_TRUE(run.Step().empty());
    // Every hour, the oldest sample: taken two hours (plus one sample) earlier.
    EXPECT_EQ(run.Step(), std::vector<int64_t>{hour * 10}) << "hour " << hour;
  }
}

TEST(AutoCompactorPeriodic, MinutesRetentionCompactsEveryRetention) {
  // etcd's TestPeriodicMinutes: retention 5m, a sample every 30 seconds.
  FakeBackend backend;
  PeriodicRun run(backend, absl::Minutes(5), absl::Seconds(30));
  for (int i = 1; i < 10; ++i) EXPECT_TRUE(run.Step().empty());
  EXPECT_EQ(run.Step(), std::vector<int64_t>{1});
  for (int round = 1; round <= 5; ++round) {
    for (int i = 1; i < 10; ++i) EXPECT_TRUE(run.Step().empty());
    EXPECT_EQ(run.Step(), std::vector<int64_t>{round * 10}) << "round " << round;
  }
}

TEST(AutoCompactorPeriodic, ACheckBeforeItIsDueNeitherSamplesNorCompacts) {
  FakeBackend backend;
  AutoCompactor compactor(&backend, Periodic(absl::Minutes(10)), kStart);
  for (int minute = 1; minute < 10; ++minute) {
    // Asked early, it only says when the next sample is due. Were it sampling, the window
    // would hold these extra samples and the compaction below would be to a later revision.
    backend.AdvanceTo(backend.revision() + 1);
    const absl::Time due = kStart + absl::Minutes(minute);
    EXPECT_EQ(compactor.Check(due - absl::Seconds(30)), due);
    backend.AdvanceTo(backend.revision() + 1);
    EXPECT_EQ(compactor.Check(due), due + absl::Minutes(1));
  }
  EXPECT_TRUE(backend.TakeCompactions().empty());
  compactor.Check(kStart + absl::Minutes(10));
  EXPECT_EQ(backend.TakeCompactions(), std::vector<int64_t>{1});
}

TEST(AutoCompactorPeriodic, AFollowerSamplesButOnlyTheLeaderCompacts) {
  // etcd's TestPeriodicPause: the compactor is paused while the member does not lead.
  FakeBackend backend;
  backend.SetLeader(kOther);
  PeriodicRun run(backend, absl::Hours(1), absl::Minutes(6));
  for (int i = 1; i <= 30; ++i) EXPECT_TRUE(run.Step().empty()) << "step " << i;
  backend.SetLeader(0);  // no leader at all: still nothing
  EXPECT_TRUE(run.Step().empty());
  backend.SetLeader(kSelf);
  // Step 32 compacts to the oldest of the samples kept (steps 21..31, revisions 22..32): the
  // revision an hour and one sample ago, as etcd's window gives.
  EXPECT_EQ(run.Step(), std::vector<int64_t>{22});
  EXPECT_TRUE(backend.CompactedAtLeastTo(22));
}

TEST(AutoCompactorPeriodic, AFailedCompactionIsTriedAgainAtTheNextSample) {
  FakeBackend backend;
  PeriodicRun run(backend, absl::Minutes(10), absl::Minutes(1));
  for (int i = 1; i < 10; ++i) run.Step();
  backend.FailWrites(absl::UnavailableError("etcdserver: request timed out"));
  EXPECT_EQ(run.Step(), std::vector<int64_t>{1});
  backend.FailWrites(absl::OkStatus());
  // Not a whole interval later but at the next sample, to the same oldest sample (the window
  // moves after the attempt, as etcd's loop does).
  EXPECT_EQ(run.Step(), std::vector<int64_t>{1});
  EXPECT_TRUE(backend.CompactedAtLeastTo(1));
  // Then the compact interval again.
  for (int i = 1; i < 10; ++i) EXPECT_TRUE(run.Step().empty());
  EXPECT_EQ(run.Step().size(), 1u);
}

// --- Revision mode ---

TEST(AutoCompactorRevision, KeepsTheLastRevisionsCheckingEveryFiveMinutes) {
  // etcd's TestRevision: retention 10.
  FakeBackend backend;
  AutoCompactor compactor(&backend, Revisions(10), kStart);
  absl::Time now = kStart + absl::Minutes(5);
  EXPECT_EQ(compactor.Check(now), now + absl::Minutes(5));
  EXPECT_TRUE(backend.TakeCompactions().empty()) << "revision 1 leaves nothing to compact";

  backend.AdvanceTo(100);
  EXPECT_EQ(compactor.Check(now + absl::Minutes(4)), now + absl::Minutes(5));
  EXPECT_TRUE(backend.TakeCompactions().empty()) << "checked before five minutes passed";
  now += absl::Minutes(5);
  compactor.Check(now);
  EXPECT_EQ(backend.TakeCompactions(), std::vector<int64_t>{90});
  EXPECT_TRUE(backend.CompactedAtLeastTo(90));

  now += absl::Minutes(5);
  compactor.Check(now);
  EXPECT_TRUE(backend.TakeCompactions().empty()) << "the same revision again";

  backend.AdvanceTo(200);
  now += absl::Minutes(5);
  compactor.Check(now);
  EXPECT_EQ(backend.TakeCompactions(), std::vector<int64_t>{190});
}

TEST(AutoCompactorRevision, OnlyTheLeaderCompacts) {
  FakeBackend backend;
  backend.AdvanceTo(100);
  backend.SetLeader(kOther);
  AutoCompactor compactor(&backend, Revisions(10), kStart);
  absl::Time now = kStart;
  for (int i = 0; i < 3; ++i) {
    now += absl::Minutes(5);
    compactor.Check(now);
  }
  EXPECT_TRUE(backend.TakeCompactions().empty());
  backend.SetLeader(kSelf);
  now += absl::Minutes(5);
  compactor.Check(now);
  EXPECT_EQ(backend.TakeCompactions(), std::vector<int64_t>{90});
}

TEST(AutoCompactorRevision, AFailedCompactionIsTriedAgainAndCompactedAlreadyCountsAsDone) {
  FakeBackend backend;
  backend.AdvanceTo(100);
  AutoCompactor compactor(&backend, Revisions(10), kStart);
  backend.FailWrites(absl::UnavailableError("etcdserver: no leader"));
  absl::Time now = kStart + absl::Minutes(5);
  compactor.Check(now);
  EXPECT_EQ(backend.TakeCompactions(), std::vector<int64_t>{90});
  backend.FailWrites(absl::OkStatus());
  // A client compacted further meanwhile: the store answers "compacted", which etcd counts as
  // done, so the same revision is not asked for again.
  backend.Compact(95);
  now += absl::Minutes(5);
  compactor.Check(now);
  EXPECT_EQ(backend.TakeCompactions(), std::vector<int64_t>{90});
  now += absl::Minutes(5);
  compactor.Check(now);
  EXPECT_TRUE(backend.TakeCompactions().empty());
}

TEST(AutoCompactorRevision, AShorterCheckIntervalIsHonoured) {
  FakeBackend backend;
  AutoCompactionPolicy policy = Revisions(10);
  policy.revision_check_interval = absl::Seconds(1);
  AutoCompactor compactor(&backend, policy, kStart);
  backend.AdvanceTo(30);
  EXPECT_EQ(compactor.Check(kStart + absl::Seconds(1)), kStart + absl::Seconds(2));
  EXPECT_EQ(backend.TakeCompactions(), std::vector<int64_t>{20});
}

// --- The thread ---

TEST(AutoCompactionThread, CompactsOnTheRealClockAndStopsWhenDestroyed) {
  FakeBackend backend;
  backend.AdvanceTo(40);
  AutoCompactionPolicy policy = Revisions(10);
  policy.revision_check_interval = absl::Milliseconds(10);
  {
    AutoCompactionThread thread(std::make_unique<AutoCompactor>(&backend, policy, absl::Now()));
    EXPECT_TRUE(backend.AwaitCompactedTo(30, absl::Seconds(10)));
  }
  // Destroyed: the thread is joined and asks for nothing more.
  backend.TakeCompactions();
  backend.AdvanceTo(60);
  EXPECT_TRUE(backend.TakeCompactions().empty());
}

}  // namespace
}  // namespace raftkv::server::etcd
