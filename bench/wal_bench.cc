// WAL benchmarks: group-commit throughput next to the disk's own limits, and recovery time.
//
//   RAFTKV_BENCH_DIR=/path/on/the/disk raftkv_wal_bench
//
// BM_RawFsync          the device's flush ceiling: the most write + fdatasync cycles per second
//                      one thread gets, over three ways of writing a little, each with the
//                      machine idle and busy, taken in turn in short slices so that all of them
//                      see the same moments of a shared disk. fsyncs_per_s is the best of them.
// BM_RawSequentialWrite 1 MiB writes, one fdatasync per 64 MiB: the bandwidth ceiling.
// BM_WalAppend/<entry bytes>/<entries per commit>/threads:<writers>  every writer commits a
//                      batch of that many entries at a time through WalCommitter and waits for
//                      it to be durable before the next (a raft node commits one Ready's
//                      entries as one batch). fsync_busy is the fraction of the run during which
//                      a WAL sync was in progress, ms_per_fsync the mean duration of one.
// BM_Recovery1M        opening a data directory holding one million 100-byte entries.
//
// Data goes to $RAFTKV_BENCH_DIR (default /tmp/raftkv_wal_bench), which is emptied first.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "io/env.h"
#include "io/sync_timing_env.h"
#include "storage/durable_storage.h"
#include "storage/wal.h"
#include "storage/wal_committer.h"

namespace raftkv::storage {
namespace {

std::string BenchRoot() {
  const char* dir = std::getenv("RAFTKV_BENCH_DIR");
  return dir != nullptr ? dir : "/tmp/raftkv_wal_bench";
}

void RemoveDirContents(const std::string& dir) {
  io::Env* env = io::Env::Default();
  auto names = env->ListDir(dir);
  if (!names.ok()) return;
  for (const std::string& n : *names) (void)env->Remove(io::JoinPath(dir, n));
}

std::string FreshDir(const std::string& name) {
  const std::string dir = io::JoinPath(BenchRoot(), name);
  (void)io::Env::Default()->CreateDir(dir);
  RemoveDirContents(dir);
  return dir;
}

void Check(const absl::Status& s, benchmark::State& state) {
  if (!s.ok()) state.SkipWithError(s.ToString().c_str());
}

// Ways of writing a little and flushing it. Which is cheapest depends on the disk: on the
// virtio disk of docs/benchmarks.md a flush that lands in a block never written since it was
// fallocated must also write the extent change (unwritten -> written), and the cost of a flush
// as such swings by several times from one minute to the next with the load on the host.
enum RawFsyncMethod {
  kOverwrite4K,    // rewrite the same 4 KiB block in place: no metadata at all
  kAppendRecord,   // append 128 bytes into fallocated space, like a small WAL commit: most
                   // flushes rewrite the block the previous one wrote
  kAppendBlock4K,  // append 4 KiB into fallocated space: every flush writes a fresh block
  kRawFsyncMethods,
};
constexpr std::array<const char*, kRawFsyncMethods> kRawFsyncMethodNames = {
    "overwrite_4k", "append_128", "append_4k"};

// Keeps one CPU busy while switched on. In a virtual machine how long a flush takes also depends
// on whether the guest is otherwise idle: on the disk of docs/benchmarks.md a lone write +
// fdatasync loop ran at some times twice as fast while another thread computed (an idle vCPU
// halts and has to be woken for the completion) and at other times slower (the spinning thread
// competes for the CPU). A WAL under load keeps the CPUs busy, so the ceiling is taken over both.
class CpuSpinner {
 public:
  CpuSpinner()
      : thread_([this] {
          std::unique_lock lock(mu_);
          while (!stop_) {
            if (!spin_) {
              cv_.wait(lock);
              continue;
            }
            lock.unlock();
            for (int i = 0; i < 100000 && spin_.load(std::memory_order_relaxed); ++i) {
              benchmark::DoNotOptimize(i);
            }
            lock.lock();
          }
        }) {}
  ~CpuSpinner() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void Spin(bool on) {
    {
      std::lock_guard lock(mu_);
      spin_ = on;
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::atomic<bool> spin_{false};
  std::thread thread_;
};

// The device's flush ceiling: the most write + fdatasync cycles per second one thread gets. The
// three methods, each with the machine idle and with one CPU busy, take turns in slices of 100 ms,
// so that all six see the same moments of a shared disk; fsyncs_per_s is the best of them and
// the others are reported as <method>[_busy] (flushes per second).
void BM_RawFsync(benchmark::State& state) {
  using Clock = std::chrono::steady_clock;
  constexpr uint64_t kFileBytes = 64ull << 20;             // like a WAL segment
  constexpr auto kSlice = std::chrono::milliseconds(100);  // per method and CPU mode, in turn
  constexpr int kConfigs = 2 * kRawFsyncMethods;  // config c: method c / 2, busy if c is odd
  const std::string dir = FreshDir("raw_fsync");
  io::Env* env = io::Env::Default();
  std::array<std::unique_ptr<io::File>, kRawFsyncMethods> files;
  std::array<uint64_t, kRawFsyncMethods> offsets{};
  const std::string block(4096, 'x');
  auto reopen = [&](int m) {
    auto file =
        env->OpenFile(io::JoinPath(dir, kRawFsyncMethodNames[m]), io::OpenMode::kCreateTruncate);
    Check(file.status(), state);
    if (!file.ok()) return false;
    files[m] = std::move(*file);
    offsets[m] = 0;
    Check(m == kOverwrite4K ? files[m]->WriteAt(0, block) : files[m]->Allocate(kFileBytes), state);
    Check(files[m]->Sync(), state);
    Check(env->SyncDir(dir), state);
    return true;
  };
  for (int m = 0; m < kRawFsyncMethods; ++m) {
    if (!reopen(m)) return;
  }
  CpuSpinner spinner;
  std::array<uint64_t, kConfigs> syncs{};
  std::array<double, kConfigs> seconds{};
  int config = 0;
  Clock::time_point slice_start = Clock::now();
  bool first_in_slice = true;
  for (auto _ : state) {
    const Clock::time_point start = Clock::now();
    if (start - slice_start >= kSlice) {
      config = (config + 1) % kConfigs;
      spinner.Spin(config % 2 == 1);
      slice_start = start;
      first_in_slice = true;
    }
    const int m = config / 2;
    const std::string_view data =
        m == kAppendRecord ? std::string_view(block).substr(0, 128) : std::string_view(block);
    if (m != kOverwrite4K && offsets[m] + data.size() > kFileBytes && !reopen(m)) break;
    Check(files[m]->WriteAt(offsets[m], data), state);
    Check(files[m]->DataSync(), state);
    if (m != kOverwrite4K) offsets[m] += data.size();
    // The first flush of a slice pays for switching files (and CPU mode); the ceiling is what
    // each method sustains, so it is not counted.
    if (!first_in_slice) {
      seconds[config] += std::chrono::duration<double>(Clock::now() - start).count();
      ++syncs[config];
    }
    first_in_slice = false;
  }
  spinner.Spin(false);
  double best = 0;
  for (int c = 0; c < kConfigs; ++c) {
    const double rate = seconds[c] > 0 ? static_cast<double>(syncs[c]) / seconds[c] : 0;
    state.counters[std::string(kRawFsyncMethodNames[c / 2]) + (c % 2 == 1 ? "_busy" : "")] = rate;
    best = std::max(best, rate);
  }
  state.counters["fsyncs_per_s"] = best;
  state.SetItemsProcessed(state.iterations());
  RemoveDirContents(dir);
}
BENCHMARK(BM_RawFsync)->UseRealTime()->MinTime(3);

void BM_RawSequentialWrite(benchmark::State& state) {
  const std::string path = io::JoinPath(FreshDir("raw_seq"), "file");
  const std::string block(1 << 20, 'y');
  constexpr uint64_t kChunkBytes = 64ull << 20;
  for (auto _ : state) {
    auto file = io::Env::Default()->OpenFile(path, io::OpenMode::kCreateTruncate);
    Check(file.status(), state);
    if (!file.ok()) return;
    for (uint64_t off = 0; off < kChunkBytes; off += block.size()) {
      Check((*file)->Append(block), state);
    }
    Check((*file)->DataSync(), state);
  }
  state.SetBytesProcessed(state.iterations() * kChunkBytes);
}
BENCHMARK(BM_RawSequentialWrite)->UseRealTime()->MinTime(3);

// Counts the syncs made through io::SyncTimingEnv and the time they took.
class SyncCounters {
 public:
  explicit SyncCounters(io::Env* base)
      : env_(base, [this](const std::string&, absl::Duration elapsed) {
          syncs_.fetch_add(1);
          sync_nanos_.fetch_add(static_cast<uint64_t>(absl::ToInt64Nanoseconds(elapsed)));
        }) {}

  io::Env* env() { return &env_; }
  uint64_t syncs() const { return syncs_.load(); }
  double sync_seconds() const { return static_cast<double>(sync_nanos_.load()) * 1e-9; }

 private:
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> sync_nanos_{0};
  io::SyncTimingEnv env_;
};

// Shared by the writer threads of one BM_WalAppend run.
struct AppendFixture {
  SyncCounters env{io::Env::Default()};
  std::unique_ptr<Wal> wal;
  std::unique_ptr<WalCommitter> committer;
  std::atomic<uint64_t> next_index{1};
  uint64_t syncs_before = 0;
  uint64_t timed_syncs_before = 0;
  double sync_seconds_before = 0;
};
AppendFixture* fixture = nullptr;

void BM_WalAppend(benchmark::State& state) {
  const size_t entry_bytes = static_cast<size_t>(state.range(0));
  const uint64_t per_commit = static_cast<uint64_t>(state.range(1));
  if (state.thread_index() == 0) {
    fixture = new AppendFixture();
    WalRecovery rec;
    auto wal = Wal::Open(fixture->env.env(), FreshDir("wal_append"), WalOptions{}, &rec);
    if (!wal.ok()) {
      state.SkipWithError(wal.status().ToString().c_str());
    } else {
      fixture->wal = std::move(*wal);
      fixture->committer = std::make_unique<WalCommitter>(fixture->wal.get());
      fixture->syncs_before = fixture->wal->sync_count();
      fixture->timed_syncs_before = fixture->env.syncs();
      fixture->sync_seconds_before = fixture->env.sync_seconds();
    }
  }
  uint64_t entries = 0;
  raftpb::Entry entry;
  entry.set_term(1);
  entry.set_data(std::string(entry_bytes, 'z'));
  for (auto _ : state) {
    if (fixture->committer == nullptr) break;
    // Indexes are taken here, so commits may land out of index order: the WAL does not check
    // indexes when writing, and this log is never reopened.
    const uint64_t first = fixture->next_index.fetch_add(per_commit);
    WalBatch batch;
    for (uint64_t i = 0; i < per_commit; ++i) {
      entry.set_index(first + i);
      batch.AddEntry(entry);
    }
    Check(fixture->committer->Commit(batch), state);
    entries += per_commit;
  }
  state.SetItemsProcessed(entries);
  state.SetBytesProcessed(entries * entry_bytes);
  if (state.thread_index() == 0) {
    if (fixture->wal != nullptr) {
      // The committer's fdatasyncs plus the WAL's own (segment rolls).
      const uint64_t syncs =
          fixture->committer->syncs() + fixture->wal->sync_count() - fixture->syncs_before;
      state.counters["fsyncs_per_s"] =
          benchmark::Counter(static_cast<double>(syncs), benchmark::Counter::kIsRate);
      state.counters["entries_per_fsync"] = static_cast<double>(fixture->next_index.load() - 1) /
                                            static_cast<double>(std::max<uint64_t>(1, syncs));
      const double sync_seconds = fixture->env.sync_seconds() - fixture->sync_seconds_before;
      state.counters["fsync_busy"] = benchmark::Counter(sync_seconds, benchmark::Counter::kIsRate);
      state.counters["ms_per_fsync"] = 1e3 * sync_seconds /
                                       static_cast<double>(std::max<uint64_t>(
                                           1, fixture->env.syncs() - fixture->timed_syncs_before));
      state.counters["entries_per_write"] =
          static_cast<double>(fixture->next_index.load() - 1) /
          static_cast<double>(std::max<uint64_t>(1, fixture->committer->writes()));
    }
    delete fixture;
    fixture = nullptr;
    RemoveDirContents(io::JoinPath(BenchRoot(), "wal_append"));
  }
}
BENCHMARK(BM_WalAppend)
    ->ArgNames({"entry_bytes", "per_commit"})
    ->Args({100, 1})
    ->Args({1024, 1})
    ->Args({16384, 1})
    ->Args({16384, 4})
    ->Args({16384, 16})
    ->Threads(1)
    ->Threads(64)
    ->UseRealTime()
    ->MinTime(3);

void BM_Recovery1M(benchmark::State& state) {
  constexpr uint64_t kEntries = 1'000'000;
  const std::string dir = FreshDir("recovery");
  {
    WalRecovery rec;
    auto wal = Wal::Open(io::Env::Default(), dir, WalOptions{}, &rec);
    if (!wal.ok()) {
      state.SkipWithError(wal.status().ToString().c_str());
      return;
    }
    raftpb::Entry e;
    e.set_term(1);
    e.set_data(std::string(100, 'r'));
    for (uint64_t i = 1; i <= kEntries;) {
      WalBatch batch;
      for (int k = 0; k < 1000; ++k, ++i) {
        e.set_index(i);
        batch.AddEntry(e);
      }
      Check((*wal)->Write(batch, /*sync=*/false), state);
    }
    Check((*wal)->Sync(), state);
  }
  for (auto _ : state) {
    auto storage = DurableStorage::Open(io::Env::Default(), dir, DurableStorageOptions{});
    if (!storage.ok()) {
      state.SkipWithError(storage.status().ToString().c_str());
      break;
    }
    if ((*storage)->LastIndex() != kEntries) state.SkipWithError("wrong last index");
  }
  state.SetItemsProcessed(state.iterations() * kEntries);
  RemoveDirContents(dir);
}
BENCHMARK(BM_Recovery1M)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

}  // namespace
}  // namespace raftkv::storage

BENCHMARK_MAIN();
