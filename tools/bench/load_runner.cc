#include "load_runner.h"

#include <grpcpp/grpcpp.h>
#include <sys/resource.h>

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/rand.h"
#include "bench_client.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "key_generator.h"

namespace raftkv::bench {
namespace {

constexpr std::chrono::seconds kConnectTimeout(5);
constexpr std::chrono::milliseconds kProgressInterval(200);

double CpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// One thread polling one completion queue for the clients assigned to it.
struct Worker {
  grpc::CompletionQueue cq;
  std::vector<std::unique_ptr<BenchClient>> clients;
  WorkerStats stats;
  Clock::time_point finished;

  void Run() {
    size_t active = 0;
    const Clock::time_point start = Clock::now();
    for (const std::unique_ptr<BenchClient>& client : clients) active += client->StartNext(start);
    if (active == 0) cq.Shutdown();
    void* tag;
    bool ok;  // always true for a unary call's Finish; the outcome is in its status
    while (cq.Next(&tag, &ok)) {
      auto* client = static_cast<BenchClient*>(tag);
      const Clock::time_point now = Clock::now();
      if (client->OnCompletion(now)) continue;  // the same request is being retried
      if (!client->StartNext(now) && --active == 0) cq.Shutdown();
    }
    finished = Clock::now();
  }
};

// The value every put writes: val_size printable bytes drawn from the seed.
std::string MakeValue(int size, uint64_t seed) {
  base::Rand rand(seed);
  std::string value(static_cast<size_t>(size), ' ');
  for (char& c : value) c = static_cast<char>('a' + rand.Uniform(26));
  return value;
}

}  // namespace

uint64_t RunResult::errors() const {
  uint64_t sum = 0;
  for (uint64_t n : errors_by_code) sum += n;
  return sum;
}

int WorkerThreadCount(int conns) {
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  return std::min({conns, cores, kMaxWorkerThreads});
}

absl::StatusOr<RunResult> RunLoad(const BenchOptions& options,
                                  const ProgressCallback& on_progress) {
  // Channels with equal arguments to one target would share one TCP connection through
  // gRPC's global subchannel pool; a pool per channel gives each --conns its own.
  grpc::ChannelArguments channel_args;
  channel_args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<etcdserverpb::KV::Stub>> stubs;
  for (int i = 0; i < options.conns; ++i) {
    const std::string& endpoint = options.endpoints[i % options.endpoints.size()];
    channels.push_back(
        grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), channel_args));
    if (!channels.back()->WaitForConnected(std::chrono::system_clock::now() + kConnectTimeout)) {
      return absl::UnavailableError(absl::StrCat("cannot connect to ", endpoint, " within ",
                                                 kConnectTimeout.count(), " s"));
    }
    stubs.push_back(etcdserverpb::KV::NewStub(channels.back()));
  }

  RunControl control(options.total);
  const std::string value = MakeValue(options.val_size, options.seed);
  std::vector<std::unique_ptr<Worker>> workers;
  const int thread_count = WorkerThreadCount(options.conns);
  for (int i = 0; i < thread_count; ++i) workers.push_back(std::make_unique<Worker>());
  base::Rand seeds(options.seed);
  for (int i = 0; i < options.clients; ++i) {
    Worker& worker = *workers[static_cast<size_t>(i % thread_count)];
    KeyGenerator keys = options.sequential_keys
                            ? KeyGenerator(options.key_size, options.key_space,
                                           control.key_sequence())
                            : KeyGenerator(options.key_size, options.key_space, seeds.Next());
    worker.clients.push_back(std::make_unique<BenchClient>(
        options, stubs[static_cast<size_t>(i % options.conns)].get(), &worker.cq,
        std::move(keys), value, seeds.Next(), &control, &worker.stats));
  }

  std::mutex mu;
  std::condition_variable all_done;
  int running = thread_count;
  std::vector<std::thread> threads;
  const double cpu_before = CpuSeconds();
  const Clock::time_point start = Clock::now();
  control.set_deadline(start + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(options.duration_s)));
  for (const std::unique_ptr<Worker>& worker : workers) {
    threads.emplace_back([&, w = worker.get()] {
      w->Run();
      std::lock_guard<std::mutex> lock(mu);
      if (--running == 0) all_done.notify_one();
    });
  }
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu);
      if (all_done.wait_for(lock, kProgressInterval, [&] { return running == 0; })) break;
    }
    if (!on_progress) continue;
    uint64_t completed = 0;
    for (const std::unique_ptr<Worker>& worker : workers) {
      completed += worker->stats.completed.load(std::memory_order_relaxed);
    }
    on_progress(completed, std::chrono::duration<double>(Clock::now() - start).count());
  }
  const double cpu_after = CpuSeconds();
  for (std::thread& thread : threads) thread.join();
  Clock::time_point end = start;
  for (const std::unique_ptr<Worker>& worker : workers) end = std::max(end, worker->finished);

  RunResult result;
  result.worker_threads = thread_count;
  result.wall_s = std::chrono::duration<double>(end - start).count();
  result.cpu_s = cpu_after - cpu_before;
  for (const std::unique_ptr<Worker>& worker : workers) {
    result.latency_ns.Merge(worker->stats.latency_ns);
    result.successes += worker->stats.successes;
    result.retries += worker->stats.retries;
    for (int code = 0; code < kStatusCodeCount; ++code) {
      result.errors_by_code[code] += worker->stats.errors_by_code[code];
    }
  }
  return result;
}

}  // namespace raftkv::bench
