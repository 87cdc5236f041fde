#include "command.h"

#include <charconv>
#include <cstddef>

namespace replicated_map {
namespace {

// Reads "<decimal>:" from the front of `data`.
bool ReadLength(std::string_view& data, size_t& length) {
  const char* end = data.data() + data.size();
  auto [ptr, ec] = std::from_chars(data.data(), end, length);
  if (ec != std::errc() || ptr == end || *ptr != ':') return false;
  data.remove_prefix(static_cast<size_t>(ptr - data.data()) + 1);
  return true;
}

}  // namespace

std::string EncodePut(std::string_view key, std::string_view value) {
  std::string out = std::to_string(key.size()) + ":" + std::to_string(value.size()) + ":";
  out.append(key);
  out.append(value);
  return out;
}

absl::Status ApplyRecords(std::string_view data, std::map<std::string, std::string>& map) {
  while (!data.empty()) {
    size_t key_length = 0;
    size_t value_length = 0;
    if (!ReadLength(data, key_length) || !ReadLength(data, value_length) ||
        data.size() < key_length || data.size() - key_length < value_length) {
      return absl::InvalidArgumentError("malformed put record");
    }
    map[std::string(data.substr(0, key_length))] = std::string(data.substr(key_length, value_length));
    data.remove_prefix(key_length + value_length);
  }
  return absl::OkStatus();
}

std::string EncodeMap(const std::map<std::string, std::string>& map) {
  std::string out;
  for (const auto& [key, value] : map) out += EncodePut(key, value);
  return out;
}

}  // namespace replicated_map
