// WAL benchmarks: group-commit throughput next to the disk's own limits, and recovery time.
//
//   RAFTKV_BENCH_DIR=/path/on/the/disk raftkv_wal_bench
//
// BM_RawFsync          overwrite the same 4 KiB of a written file + fdatasync: the device's
//                      flush rate with no file-system metadata to commit, the ceiling for
//                      commits per second.
// BM_RawSequentialWrite 1 MiB writes, one fdatasync per 64 MiB: the bandwidth ceiling.
// BM_WalAppend/<entry bytes>/<entries per commit>/threads:<writers>  every writer commits a
//                      batch of that many entries at a time through WalCommitter and waits for
//                      it to be durable before the next (a raft node commits one Ready's
//                      entries as one batch).
// BM_Recovery1M        opening a data directory holding one million 100-byte entries.
//
// Data goes to $RAFTKV_BENCH_DIR (default /tmp/raftkv_wal_bench), which is emptied first.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>

#include "io/env.h"
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

void BM_RawFsync(benchmark::State& state) {
  const std::string path = io::JoinPath(FreshDir("raw_fsync"), "file");
  auto file = io::Env::Default()->OpenFile(path, io::OpenMode::kCreateTruncate);
  Check(file.status(), state);
  if (!file.ok()) return;
  const std::string block(4096, 'x');
  Check((*file)->WriteAt(0, block), state);
  Check((*file)->Sync(), state);
  for (auto _ : state) {
    Check((*file)->WriteAt(0, block), state);
    Check((*file)->DataSync(), state);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * block.size());
  state.counters["fsyncs_per_s"] =
      benchmark::Counter(state.iterations(), benchmark::Counter::kIsRate);
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

// Shared by the writer threads of one BM_WalAppend run.
struct AppendFixture {
  std::unique_ptr<Wal> wal;
  std::unique_ptr<WalCommitter> committer;
  std::atomic<uint64_t> next_index{1};
  uint64_t syncs_before = 0;
};
AppendFixture* fixture = nullptr;

void BM_WalAppend(benchmark::State& state) {
  const size_t entry_bytes = static_cast<size_t>(state.range(0));
  const uint64_t per_commit = static_cast<uint64_t>(state.range(1));
  if (state.thread_index() == 0) {
    fixture = new AppendFixture();
    WalRecovery rec;
    auto wal = Wal::Open(io::Env::Default(), FreshDir("wal_append"), WalOptions{}, &rec);
    if (!wal.ok()) {
      state.SkipWithError(wal.status().ToString().c_str());
    } else {
      fixture->wal = std::move(*wal);
      fixture->committer = std::make_unique<WalCommitter>(fixture->wal.get());
      fixture->syncs_before = fixture->wal->sync_count();
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
