#include "transport/checkpoint.h"

#include "absl/strings/str_format.h"

namespace raftkv::transport {
namespace {

constexpr std::string_view kReceivedPrefix = "snap-recv-";
constexpr std::string_view kPartialMarker = ".tmp-";
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
  return name.starts_with(kReceivedPrefix) && name.find(kPartialMarker) != std::string_view::npos;
}

std::string PartialCheckpointPath(std::string_view dir, uint64_t index, uint64_t n) {
  return absl::StrFormat("%s/%s%016x%s%d", dir, kReceivedPrefix, index, kPartialMarker, n);
}

}  // namespace raftkv::transport
