// The key-value store on each engine, without raft: applying puts of 1 KiB values (one per entry,
// and 128 per entry as a bulk load sends them), point reads
// and 100-key range reads over 100,000 keys (RAFTKV_BENCH_KEYS to change), on the MemoryEngine
// and on the RocksDbEngine (in a fresh directory under $TMPDIR, without an fsync per commit, as
// the engine runs by default).
// Argument 0 is the memory engine, 1 the RocksDB engine, 2 the RocksDB engine without its own
// write-ahead log (RocksDbEngine::Options::write_ahead_log off; puts only).
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "benchmark/benchmark.h"
#include "fmt/format.h"
#include "io/scratch_directory.h"
#include "kv/rocksdb_engine.h"
#include "kv/store.h"

namespace raftkv::kv {
namespace {

// The key space: 100,000 keys, or RAFTKV_BENCH_KEYS (a data set larger than the block cache
// shows what the table files' filters and layout cost).
int KeyCount() {
  static const int keys = [] {
    const char* text = std::getenv("RAFTKV_BENCH_KEYS");
    const int parsed = text != nullptr ? std::atoi(text) : 0;
    return parsed > 100 ? parsed : 100000;
  }();
  return keys;
}
constexpr size_t kValueBytes = 1024;

std::string Key(int i) { return fmt::format("key{:08d}", i); }

// A store on the engine the benchmark's argument names, removing its directory at the end.
class BenchStore {
 public:
  explicit BenchStore(int64_t engine) {
    if (engine == 0) {
      store_ = std::make_unique<Store>();
      return;
    }
    dir_.emplace("raftkv-bench");
    if (dir_->path().empty()) std::abort();
    RocksDbEngine::Options options;
    options.write_ahead_log = engine != 2;
    auto opened = RocksDbEngine::Open(dir_->path(), options);
    if (!opened.ok()) std::abort();
    store_ = std::make_unique<Store>(*std::move(opened));
  }

  Store& store() { return *store_; }

  void Put(const std::string& key, const std::string& value) {
    kvpb::Request request;
    request.mutable_put()->set_key(key);
    request.mutable_put()->set_value(value);
    if (!store_->Apply(request, store_->applied_index() + 1).ok()) std::abort();
  }

  void Load() {
    const std::string value(kValueBytes, 'v');
    for (int i = 0; i < KeyCount(); ++i) Put(Key(i), value);
  }

 private:
  // Declared before the store, so that the engine closes before its directory goes.
  std::optional<io::ScratchDirectory> dir_;
  std::unique_ptr<Store> store_;
};

void BM_Put(benchmark::State& state) {
  BenchStore bench(state.range(0));
  const std::string value(kValueBytes, 'v');
  int i = 0;
  for (auto _ : state) {
    bench.Put(Key(i), value);
    // Overwrites pile up history: compact it once per pass over the keys, as an operator would.
    if (++i == KeyCount()) {
      i = 0;
      kvpb::Request compact;
      compact.mutable_compaction()->set_revision(bench.store().revision());
      if (!bench.store().Apply(compact, bench.store().applied_index() + 1).ok()) std::abort();
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Put)->Arg(0)->Arg(1)->Arg(2);

// A bulk load: Txns of 128 puts of new keys (etcd's default --max-txn-ops), one entry each, as
// `raftkv-bench txn-put --txn-ops 128 --sequential-keys` sends them. Items are puts.
void BM_LoadTxn128(benchmark::State& state) {
  BenchStore bench(state.range(0));
  constexpr int kOps = 128;
  kvpb::Request request;
  for (int i = 0; i < kOps; ++i) {
    request.mutable_txn()->add_success()->mutable_request_put()->set_value(
        std::string(kValueBytes, 'v'));
  }
  int64_t next_key = 0;
  for (auto _ : state) {
    for (int i = 0; i < kOps; ++i) {
      request.mutable_txn()->mutable_success(i)->mutable_request_put()->set_key(
          fmt::format("load{:012d}", next_key++));
    }
    if (!bench.store().Apply(request, bench.store().applied_index() + 1).ok()) std::abort();
  }
  state.SetItemsProcessed(state.iterations() * kOps);
}
BENCHMARK(BM_LoadTxn128)->Arg(0)->Arg(1);

// The store that the read benchmarks share per engine, loaded once: google-benchmark calls a
// benchmark function several times while it settles the iteration count, and loading 100,000
// keys each time would make the reads run against a store still flushing and compacting, with a
// cold cache, rather than the steady state a serving member is in.
// Emptied by main before exit: RocksDB's own statics must outlive the engines.
std::map<int64_t, std::unique_ptr<BenchStore>>& LoadedStores() {
  static auto* stores = new std::map<int64_t, std::unique_ptr<BenchStore>>();
  return *stores;
}

BenchStore& LoadedStore(int64_t engine) {
  std::unique_ptr<BenchStore>& store = LoadedStores()[engine];
  if (store == nullptr) {
    store = std::make_unique<BenchStore>(engine);
    store->Load();
  }
  return *store;
}

void BM_PointRead(benchmark::State& state) {
  BenchStore& bench = LoadedStore(state.range(0));
  uint64_t x = 88172645463325252ull;  // xorshift: a spread of keys without a global RNG
  for (auto _ : state) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    etcdserverpb::RangeRequest request;
    request.set_key(Key(static_cast<int>(x % KeyCount())));
    auto response = bench.store().Range(request);
    if (!response.ok() || response->kvs_size() != 1) std::abort();
    benchmark::DoNotOptimize(response);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PointRead)->Arg(0)->Arg(1);

void BM_Range100(benchmark::State& state) {
  BenchStore& bench = LoadedStore(state.range(0));
  uint64_t x = 88172645463325252ull;
  for (auto _ : state) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    const int first = static_cast<int>(x % (KeyCount() - 100));
    etcdserverpb::RangeRequest request;
    request.set_key(Key(first));
    request.set_range_end(Key(first + 100));
    auto response = bench.store().Range(request);
    if (!response.ok() || response->kvs_size() != 100) std::abort();
    benchmark::DoNotOptimize(response);
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_Range100)->Arg(0)->Arg(1);

}  // namespace
}  // namespace raftkv::kv

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  raftkv::kv::LoadedStores().clear();
  benchmark::Shutdown();
  return 0;
}
