#include "transport/checkpoint.h"

#include <random>

#include "absl/strings/str_format.h"

namespace raftkv::transport {
namespace {

constexpr std::string_view kReceivedPrefix = "snap-recv-";
constexpr std::string_view kTemporaryMarker = ".tmp-";
constexpr std::string_view kPartialMarker = ".part-";
constexpr std::string_view kManifestSuffix = ".manifest";
constexpr size_t kIndexDigits = 16;

}  // namespace

std::string ReceivedCheckpointPath(std::string_view dir, uint64_t index) {
  return absl::StrFormat("%s/%s%016x", dir, kReceivedPrefix, index);
}

std::optional<uint64_t> ParseReceivedCheckpointName(std::string_view name) {
  if (!name.starts_with(kReceivedPrefix)) return std::nullopt;
  name.remove_prefix(kReceivedPrefix.size());
  if (name.size() != kIndexDigits) return std::nullopt;
  uint64_t index = 0;
  for (char c : name) {
    int digit = 0;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else {
      return std::nullopt;
    }
    index = index << 4 | static_cast<uint64_t>(digit);
  }
  return index;
}

bool IsPartialCheckpointName(std::string_view name) {
  return name.starts_with(kReceivedPrefix) &&
         (name.find(kTemporaryMarker) != std::string_view::npos ||
          name.find(kPartialMarker) != std::string_view::npos);
}

std::string TemporaryCheckpointPath(std::string_view dir, uint64_t index, uint64_t n) {
  return absl::StrFormat("%s/%s%016x%s%d", dir, kReceivedPrefix, index, kTemporaryMarker, n);
}

std::string PartialCheckpointPath(std::string_view dir, uint64_t index, uint64_t transfer_id) {
  return absl::StrFormat("%s/%s%016x%s%016x", dir, kReceivedPrefix, index, kPartialMarker,
                         transfer_id);
}

std::string PartialManifestPath(std::string_view partial_path) {
  return std::string(partial_path) + std::string(kManifestSuffix);
}

uint64_t NewTransferId() {
  // Seeded per thread from the system's random source (getrandom or /dev/urandom): ids only need
  // to differ between checkpoints, across members and restarts, not to be secret.
  thread_local std::mt19937_64 generator = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  uint64_t id = 0;
  while (id == 0) id = generator();
  return id;
}

}  // namespace raftkv::transport
