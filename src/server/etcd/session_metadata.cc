#include "server/etcd/session_metadata.h"

#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace raftkv::server::etcd {
namespace {

constexpr uint64_t kMaxValue = ~uint64_t{0};
// How much of a bad value an error message quotes.
constexpr size_t kQuotedBytes = 32;

absl::Status Malformed(std::string_view key, std::string_view value) {
  const std::string quoted =
      std::string(value.substr(0, kQuotedBytes)) + (value.size() > kQuotedBytes ? "..." : "");
  return absl::InvalidArgumentError(absl::StrCat("raftkv: metadata ", std::string(key),
                                                 " must be a decimal number from 1 to ", kMaxValue,
                                                 ", not \"", quoted, "\""));
}

// The value of `key`: nullopt when absent; an error when repeated or malformed.
absl::StatusOr<std::optional<uint64_t>> Number(
    const std::multimap<::grpc::string_ref, ::grpc::string_ref>& metadata, const char* key) {
  auto [first, last] = metadata.equal_range(key);
  if (first == last) return std::nullopt;
  if (std::next(first) != last) {
    return absl::InvalidArgumentError(
        absl::StrCat("raftkv: metadata ", std::string(key), " given twice"));
  }
  const std::string_view value(first->second.data(), first->second.size());
  // Digits only: no sign, no spaces, no hexadecimal, and no more than 2^64 - 1.
  uint64_t number = 0;
  if (value.empty()) return Malformed(key, value);
  for (char c : value) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return Malformed(key, value);
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (number > (kMaxValue - digit) / 10) return Malformed(key, value);
    number = number * 10 + digit;
  }
  if (number == 0) return Malformed(key, value);
  return number;
}

}  // namespace

absl::StatusOr<std::optional<SessionTag>> ParseSessionMetadata(
    const std::multimap<::grpc::string_ref, ::grpc::string_ref>& metadata) {
  absl::StatusOr<std::optional<uint64_t>> client = Number(metadata, kClientIdMetadata);
  if (!client.ok()) return client.status();
  absl::StatusOr<std::optional<uint64_t>> sequence = Number(metadata, kSequenceMetadata);
  if (!sequence.ok()) return sequence.status();
  if (!client->has_value() && !sequence->has_value()) return std::nullopt;
  if (!client->has_value() || !sequence->has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "raftkv: metadata ", kClientIdMetadata, " and ", kSequenceMetadata, " go together; only ",
        client->has_value() ? kClientIdMetadata : kSequenceMetadata, " was given"));
  }
  return SessionTag{.client_id = **client, .sequence = **sequence};
}

void TagRequest(const SessionTag& tag, absl::Time now, kvpb::Request* request) {
  request->set_client_id(tag.client_id);
  request->set_sequence(tag.sequence);
  request->set_time_ms(absl::ToUnixMillis(now));
}

}  // namespace raftkv::server::etcd
