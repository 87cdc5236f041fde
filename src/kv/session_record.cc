// The encoding of a session record and of the answer it remembers.
//
//   record = u8 format (1) | u64 sequence | i64 last_used_ms | answer      (little-endian)
//   answer = u8 0 | kvpb::Response without its id, serialized              (a success)
//          | u8 1 | u32 gRPC code | message bytes                           (an error)
//
// The record is what the engines store and what the snapshot carries, so equal sessions give
// equal bytes on every member running the same build.
#include <utility>

#include "kv/session.h"

namespace raftkv::kv {
namespace {

constexpr uint8_t kRecordFormat = 1;
constexpr size_t kRecordHeaderBytes = 1 + 8 + 8;
constexpr char kAnswerResponse = 0;
constexpr char kAnswerError = 1;

template <typename T>
void PutFixed(std::string* out, T value) {
  using U = std::make_unsigned_t<T>;
  const auto bits = static_cast<U>(value);
  for (size_t i = 0; i < sizeof(T); ++i)
    out->push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
}

template <typename T>
T GetFixed(std::string_view bytes) {
  using U = std::make_unsigned_t<T>;
  U bits = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    bits |= static_cast<U>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  }
  return static_cast<T>(bits);
}

std::string EncodeError(const absl::Status& status) {
  std::string out(1, kAnswerError);
  PutFixed<uint32_t>(&out, static_cast<uint32_t>(status.code()));
  out.append(status.message().data(), status.message().size());
  return out;
}

}  // namespace

std::string EncodeSessionRecord(const SessionRecord& record) {
  std::string out;
  out.reserve(kRecordHeaderBytes + record.answer.size());
  out.push_back(static_cast<char>(kRecordFormat));
  PutFixed<uint64_t>(&out, record.sequence);
  PutFixed<int64_t>(&out, record.last_used_ms);
  out.append(record.answer);
  return out;
}

std::optional<SessionRecord> DecodeSessionRecord(std::string_view encoded) {
  if (encoded.size() < kRecordHeaderBytes || static_cast<uint8_t>(encoded[0]) != kRecordFormat) {
    return std::nullopt;
  }
  SessionRecord record{.sequence = GetFixed<uint64_t>(encoded.substr(1)),
                       .last_used_ms = GetFixed<int64_t>(encoded.substr(9)),
                       .answer = std::string(encoded.substr(kRecordHeaderBytes))};
  if (record.sequence == 0 || !DecodeSessionAnswer(record.answer)) return std::nullopt;
  return record;
}

std::string EncodeSessionAnswer(const absl::StatusOr<kvpb::Response>& answer, uint64_t client,
                                uint64_t sequence) {
  if (!answer.ok()) return EncodeError(answer.status());
  // The request id is the proposer's, different for every copy of the request: a replay
  // answers with the id of the copy it answers.
  kvpb::Response response = *answer;
  response.clear_id();
  std::string out(1, kAnswerResponse);
  if (!response.AppendToString(&out)) return EncodeError(absl::InternalError("unencodable"));
  if (out.size() - 1 > kMaxRememberedAnswerBytes) {
    return EncodeError(AnswerTooLargeError(client, sequence, out.size() - 1));
  }
  return out;
}

std::optional<absl::StatusOr<kvpb::Response>> DecodeSessionAnswer(std::string_view encoded) {
  if (encoded.empty()) return std::nullopt;
  const std::string_view body = encoded.substr(1);
  if (encoded[0] == kAnswerResponse) {
    kvpb::Response response;
    if (!response.ParseFromArray(body.data(), static_cast<int>(body.size()))) return std::nullopt;
    return absl::StatusOr<kvpb::Response>(std::move(response));
  }
  if (encoded[0] != kAnswerError || body.size() < 4) return std::nullopt;
  const uint32_t code = GetFixed<uint32_t>(body);
  // An OK "error" would turn into a success without a response.
  if (code == 0 || code > static_cast<uint32_t>(absl::StatusCode::kUnauthenticated)) {
    return std::nullopt;
  }
  return absl::StatusOr<kvpb::Response>(
      absl::Status(static_cast<absl::StatusCode>(code), std::string(body.substr(4))));
}

}  // namespace raftkv::kv
