#include "kv/rocksdb_format.h"

namespace raftkv::kv::rocksdb_format {
namespace {

constexpr char kEscape = '\xFF';      // follows a 0x00 byte of the key
constexpr char kTerminator = '\x01';  // follows the 0x00 that ends the key
constexpr uint8_t kMetaFormat = 2;
constexpr uint8_t kMetaFormatWithoutLogClock = 1;
constexpr uint8_t kCompactionRecordFormat = 1;
constexpr uint64_t kSignBit = uint64_t{1} << 63;

void PutBig64(std::string* out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(value >> shift));
}

uint64_t GetBig64(std::string_view bytes) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

}  // namespace

std::string VersionKeyPrefix(std::string_view key) {
  std::string out;
  out.reserve(key.size() + 2 + 8);
  for (char c : key) {
    out.push_back(c);
    if (c == '\0') out.push_back(kEscape);
  }
  out.push_back('\0');
  out.push_back(kTerminator);
  return out;
}

std::string VersionKey(std::string_view key, int64_t revision) {
  std::string out = VersionKeyPrefix(key);
  PutBig64(&out, ~static_cast<uint64_t>(revision));
  return out;
}

std::string VersionKeyLimit(std::string_view key) {
  // Revisions are >= 1, so their complements are below 2^64 - 1.
  std::string out = VersionKeyPrefix(key);
  out.append(8, '\xFF');
  return out;
}

std::optional<DecodedVersionKey> DecodeVersionKey(std::string_view encoded) {
  if (encoded.size() < 2 + 8) return std::nullopt;
  DecodedVersionKey out;
  const size_t key_end = encoded.size() - 8 - 2;
  size_t i = 0;
  while (i < key_end) {
    const char c = encoded[i++];
    out.key.push_back(c);
    if (c == '\0') {
      if (i >= key_end || encoded[i] != kEscape) return std::nullopt;
      ++i;
    }
  }
  if (i != key_end || encoded[key_end] != '\0' || encoded[key_end + 1] != kTerminator) {
    return std::nullopt;
  }
  out.revision = static_cast<int64_t>(~GetBig64(encoded.substr(encoded.size() - 8)));
  if (out.revision < 1) return std::nullopt;
  return out;
}

std::string EncodeVersion(const Version& version) {
  std::string out;
  if (version.tombstone) {
    out.push_back(1);
    return out;
  }
  out.reserve(1 + 24 + version.value.size());
  out.push_back(0);
  PutBig64(&out, static_cast<uint64_t>(version.create_revision));
  PutBig64(&out, static_cast<uint64_t>(version.version));
  PutBig64(&out, static_cast<uint64_t>(version.lease));
  out.append(version.value);
  return out;
}

std::optional<Version> DecodeVersion(std::string_view record, int64_t mod_revision) {
  if (record.empty()) return std::nullopt;
  Version version;
  version.mod_revision = mod_revision;
  const auto flags = static_cast<uint8_t>(record[0]);
  if (flags == 1) {
    if (record.size() != 1) return std::nullopt;
    version.tombstone = true;
    return version;
  }
  if (flags != 0 || record.size() < 1 + 24) return std::nullopt;
  version.create_revision = static_cast<int64_t>(GetBig64(record.substr(1)));
  version.version = static_cast<int64_t>(GetBig64(record.substr(9)));
  version.lease = static_cast<int64_t>(GetBig64(record.substr(17)));
  version.value = std::string(record.substr(25));
  return version;
}

std::string RevisionKey(int64_t revision, std::string_view key) {
  std::string out;
  out.reserve(8 + key.size());
  PutBig64(&out, static_cast<uint64_t>(revision));
  out.append(key);
  return out;
}

std::optional<DecodedRevisionKey> DecodeRevisionKey(std::string_view encoded) {
  if (encoded.size() < 8) return std::nullopt;
  return DecodedRevisionKey{.revision = static_cast<int64_t>(GetBig64(encoded)),
                            .key = encoded.substr(8)};
}

std::string EncodeMeta(const EngineMeta& meta) {
  std::string out;
  out.push_back(static_cast<char>(kMetaFormat));
  PutBig64(&out, meta.applied_index);
  PutBig64(&out, static_cast<uint64_t>(meta.revision));
  PutBig64(&out, static_cast<uint64_t>(meta.compact_revision));
  PutBig64(&out, static_cast<uint64_t>(meta.size_bytes));
  PutBig64(&out, static_cast<uint64_t>(meta.live_keys));
  PutBig64(&out, static_cast<uint64_t>(meta.log_clock_ms));
  return out;
}

std::optional<EngineMeta> DecodeMeta(std::string_view record) {
  if (record.empty()) return std::nullopt;
  const auto format = static_cast<uint8_t>(record[0]);
  // A data directory written before client sessions has no log clock: it never saw a session.
  const size_t fields = format == kMetaFormat ? 6 : (format == kMetaFormatWithoutLogClock ? 5 : 0);
  if (fields == 0 || record.size() != 1 + fields * 8) return std::nullopt;
  return EngineMeta{
      .applied_index = GetBig64(record.substr(1)),
      .revision = static_cast<int64_t>(GetBig64(record.substr(9))),
      .compact_revision = static_cast<int64_t>(GetBig64(record.substr(17))),
      .size_bytes = static_cast<int64_t>(GetBig64(record.substr(25))),
      .live_keys = static_cast<int64_t>(GetBig64(record.substr(33))),
      .log_clock_ms = fields == 6 ? static_cast<int64_t>(GetBig64(record.substr(41))) : 0};
}

std::string LeaseKey(int64_t id) {
  std::string out(1, kLeasePrefix);
  PutBig64(&out, static_cast<uint64_t>(id) ^ kSignBit);
  return out;
}

std::string LeaseKeysPrefix(int64_t id) {
  std::string out(1, kLeaseKeyPrefix);
  PutBig64(&out, static_cast<uint64_t>(id) ^ kSignBit);
  return out;
}

std::string LeaseKeyKey(int64_t id, std::string_view key) {
  std::string out = LeaseKeysPrefix(id);
  out.append(key);
  return out;
}

std::string AlarmKey(uint64_t member, etcdserverpb::AlarmType type) {
  std::string out(1, kAlarmPrefix);
  PutBig64(&out, member);
  const auto t = static_cast<uint32_t>(type);
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(t >> shift));
  return out;
}

std::string SessionKey(uint64_t client) {
  std::string out(1, kSessionPrefix);
  PutBig64(&out, client);
  return out;
}

std::optional<uint64_t> DecodeSessionKey(std::string_view encoded) {
  if (encoded.size() != 9 || encoded[0] != kSessionPrefix) return std::nullopt;
  return GetBig64(encoded.substr(1));
}

std::optional<int64_t> DecodeLeaseKey(std::string_view encoded) {
  if (encoded.size() != 9 || encoded[0] != kLeasePrefix) return std::nullopt;
  return static_cast<int64_t>(GetBig64(encoded.substr(1)) ^ kSignBit);
}

std::optional<std::pair<uint64_t, etcdserverpb::AlarmType>> DecodeAlarmKey(
    std::string_view encoded) {
  if (encoded.size() != 13 || encoded[0] != kAlarmPrefix) return std::nullopt;
  uint32_t type = 0;
  for (int i = 9; i < 13; ++i) type = (type << 8) | static_cast<unsigned char>(encoded[i]);
  if (!etcdserverpb::AlarmType_IsValid(static_cast<int>(type))) return std::nullopt;
  return std::make_pair(GetBig64(encoded.substr(1)), static_cast<etcdserverpb::AlarmType>(type));
}

std::string ObsoleteMarkKey(int64_t revision) {
  std::string out(1, kObsoleteMarkPrefix);
  PutBig64(&out, static_cast<uint64_t>(revision));
  return out;
}

std::optional<int64_t> DecodeObsoleteMarkKey(std::string_view encoded) {
  if (encoded.size() != 9 || encoded[0] != kObsoleteMarkPrefix) return std::nullopt;
  return static_cast<int64_t>(GetBig64(encoded.substr(1)));
}

std::string EncodeCompactionRecord(const CompactionRecord& record) {
  std::string out;
  out.push_back(static_cast<char>(kCompactionRecordFormat));
  PutBig64(&out, static_cast<uint64_t>(record.pending_revision));
  PutBig64(&out, static_cast<uint64_t>(record.obsolete_bytes_at_compaction));
  out.append(record.resume_key);
  return out;
}

std::optional<CompactionRecord> DecodeCompactionRecord(std::string_view encoded) {
  if (encoded.size() < 1 + 16 || static_cast<uint8_t>(encoded[0]) != kCompactionRecordFormat) {
    return std::nullopt;
  }
  CompactionRecord record{
      .pending_revision = static_cast<int64_t>(GetBig64(encoded.substr(1))),
      .obsolete_bytes_at_compaction = static_cast<int64_t>(GetBig64(encoded.substr(9))),
      .resume_key = std::string(encoded.substr(17))};
  if (record.pending_revision < 0 || record.obsolete_bytes_at_compaction < 0) return std::nullopt;
  return record;
}

std::string EncodeInt64(int64_t value) {
  std::string out;
  PutBig64(&out, static_cast<uint64_t>(value));
  return out;
}

std::optional<int64_t> DecodeInt64(std::string_view bytes) {
  if (bytes.size() != 8) return std::nullopt;
  return static_cast<int64_t>(GetBig64(bytes));
}

}  // namespace raftkv::kv::rocksdb_format
