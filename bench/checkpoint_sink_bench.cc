// The receiving end of a checkpoint transfer without the network: CheckpointSink writing a
// stream of 1 MiB chunks (from memory) into table-sized files, checking the CRC-32C, and making
// the files durable, with direct writes (argument 1) and through the page cache (argument 0).
// Each iteration receives RAFTKV_BENCH_CHECKPOINT_MIB (default 4096) MiB in files of 64 MiB into
// a fresh directory under $TMPDIR; the time includes Finish's fsyncs. The process CPU time it
// reports leaves out the kernel's writeback threads, which do the page cache's work later:
// compare the rates (bytes per second of wall time).
#include <cstdlib>
#include <filesystem>
#include <string>

#include "base/crc32c.h"
#include "benchmark/benchmark.h"
#include "io/scratch_directory.h"
#include "transport/checkpoint.h"
#include "transport/checkpoint_sink.h"

namespace raftkv::transport {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kFileBytes = 64 * kMiB;

uint64_t CheckpointBytes() {
  const char* text = std::getenv("RAFTKV_BENCH_CHECKPOINT_MIB");
  const uint64_t mib = text != nullptr ? std::strtoull(text, nullptr, 10) : 0;
  return (mib >= 64 ? mib : 4096) * kMiB;
}

// One transfer: the manifest's files, every one of them `chunk` repeated.
absl::Status Receive(const CheckpointSinkOptions& options,
                     const peerpb::CheckpointManifest& manifest, const std::string& chunk,
                     uint32_t crc) {
  uint64_t total = 0;
  for (const peerpb::CheckpointFile& file : manifest.files()) total += file.size_bytes();
  CheckpointSink sink(options);
  if (absl::Status s = sink.Begin(manifest, total); !s.ok()) return s;
  for (uint64_t sent = 0; sent < total; sent += chunk.size()) {
    if (absl::Status s = sink.Write(chunk); !s.ok()) return s;
  }
  return sink.Finish(crc);
}

void BM_ReceiveCheckpoint(benchmark::State& state) {
  const bool direct = state.range(0) != 0;
  const uint64_t total = CheckpointBytes();
  std::string chunk(kMiB, '\0');
  uint64_t seed = 0x9e3779b97f4a7c15ULL;
  for (char& c : chunk) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    c = static_cast<char>(seed >> 56);
  }
  peerpb::CheckpointManifest manifest;
  manifest.set_index(7);
  for (uint64_t i = 0; i < total / kFileBytes; ++i) {
    peerpb::CheckpointFile* file = manifest.add_files();
    file->set_name("00" + std::to_string(1000 + i) + ".sst");
    file->set_size_bytes(kFileBytes);
  }
  uint32_t crc = 0;
  for (uint64_t sent = 0; sent < total; sent += kMiB) {
    crc = base::crc32c::Extend(crc, chunk.data(), chunk.size());
  }
  io::ScratchDirectory scratch("raftkv-sink-bench");
  CheckpointSinkOptions options;
  options.dir = scratch.path();
  options.direct_writes = direct;
  for (auto _ : state) {
    absl::Status received = Receive(options, manifest, chunk, crc);
    if (!received.ok()) {
      state.SkipWithError(std::string(received.message()).c_str());
      break;
    }
    state.PauseTiming();
    std::filesystem::remove_all(ReceivedCheckpointPath(scratch.path(), manifest.index()));
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * total));
}
BENCHMARK(BM_ReceiveCheckpoint)
    ->Arg(0)
    ->Arg(1)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

}  // namespace
}  // namespace raftkv::transport

BENCHMARK_MAIN();
