// Store snapshots: the whole store, history included, as one self-checking byte string.
//
// Format (little-endian):
//   magic "RKVS" | u32 format version (4) | u64 payload length | payload | u32 CRC-32C(payload)
//   payload = i64 revision | i64 compact_revision | u64 applied_index | u64 key count | keys...
//             | u64 lease count | leases...          (the lease part is absent in version 1)
//             | u64 alarm count | alarms...          (the alarm part is absent before version 3)
//             | i64 log_clock_ms | u64 session count | sessions...
//                                                    (the session part is absent before version 4)
//   key     = u32 key length | key bytes | u32 version count | versions...
//   version = i64 mod_revision | i64 create_revision | i64 version | i64 lease | u8 flags
//             (bit 0: tombstone) | u32 value length | value bytes
//   lease   = i64 id | i64 granted TTL
//   alarm   = u64 member id | u32 alarm type (etcd's AlarmType)
//   session = u64 client id | u32 record length | session record (kv/session.h, session_record.cc)
// Keys appear in ascending order, versions in ascending mod_revision, leases in ascending id,
// alarms in ascending (member, type) and sessions in ascending client id, so equal stores give
// byte-identical snapshots. Which keys a lease holds is not stored: it is the lease of each key's
// live version, rebuilt on restore. Version 1 (written before leases existed) is still read, as a
// store without leases, version 2 (before alarms) as a store without alarms, and version 3
// (before client sessions) as a store without sessions whose log clock is 0.
#include <cstring>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/crc32c.h"
#include "fmt/format.h"
#include "kv/store.h"

namespace raftkv::kv {
namespace {

constexpr std::string_view kMagic = "RKVS";
constexpr uint32_t kFormatVersion = 4;
constexpr uint32_t kFormatVersionWithoutSessions = 3;
constexpr uint32_t kFormatVersionWithoutAlarms = 2;
constexpr uint32_t kFormatVersionWithoutLeases = 1;
constexpr size_t kPreambleBytes = 4 + 4 + 8;
constexpr size_t kTrailerBytes = 4;

template <typename T>
void PutFixed(std::string* out, T value) {
  using U = std::make_unsigned_t<T>;
  const U bits = static_cast<U>(value);
  for (size_t i = 0; i < sizeof(T); ++i)
    out->push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
}

void PutBytes(std::string* out, std::string_view bytes) {
  PutFixed<uint32_t>(out, static_cast<uint32_t>(bytes.size()));
  out->append(bytes);
}

// Reads the fields back, remembering the first failure and where it happened.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  template <typename T>
  T Fixed() {
    using U = std::make_unsigned_t<T>;
    if (!Need(sizeof(T))) return 0;
    U bits = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
      bits |= static_cast<U>(static_cast<unsigned char>(data_[offset_ + i])) << (8 * i);
    }
    offset_ += sizeof(T);
    return static_cast<T>(bits);
  }

  std::string_view Bytes() {
    const uint32_t size = Fixed<uint32_t>();
    if (!Need(size)) return {};
    std::string_view bytes = data_.substr(offset_, size);
    offset_ += size;
    return bytes;
  }

  bool ok() const { return ok_; }
  bool done() const { return offset_ == data_.size(); }
  size_t offset() const { return offset_; }

 private:
  bool Need(size_t size) {
    if (ok_ && data_.size() - offset_ >= size) return true;
    ok_ = false;
    return false;
  }

  std::string_view data_;
  size_t offset_ = 0;
  bool ok_ = true;
};

absl::Status Corrupt(std::string_view what, size_t offset) {
  return absl::DataLossError(
      fmt::format("kv snapshot is corrupt: {} (payload offset {})", what, offset));
}

}  // namespace

std::string Store::Snapshot() const {
  std::string payload;
  PutFixed<int64_t>(&payload, meta_.revision);
  PutFixed<int64_t>(&payload, meta_.compact_revision);
  PutFixed<uint64_t>(&payload, meta_.applied_index);
  // The key count comes before the keys; it is known once they are written.
  const size_t key_count_offset = payload.size();
  PutFixed<uint64_t>(&payload, 0);
  uint64_t key_count = 0;
  engine_->ForEachKeyHistory([&](const std::string& key, std::span<const Version> history) {
    ++key_count;
    PutBytes(&payload, key);
    PutFixed<uint32_t>(&payload, static_cast<uint32_t>(history.size()));
    for (const Version& version : history) {
      PutFixed<int64_t>(&payload, version.mod_revision);
      PutFixed<int64_t>(&payload, version.create_revision);
      PutFixed<int64_t>(&payload, version.version);
      PutFixed<int64_t>(&payload, version.lease);
      PutFixed<uint8_t>(&payload, version.tombstone ? 1 : 0);
      PutBytes(&payload, version.value);
    }
  });
  std::string count_bytes;
  PutFixed<uint64_t>(&count_bytes, key_count);
  payload.replace(key_count_offset, count_bytes.size(), count_bytes);
  const std::vector<std::pair<int64_t, int64_t>> leases = engine_->Leases();
  PutFixed<uint64_t>(&payload, leases.size());
  for (const auto& [id, ttl] : leases) {
    PutFixed<int64_t>(&payload, id);
    PutFixed<int64_t>(&payload, ttl);
  }
  const AlarmSet& alarms = engine_->alarms();
  PutFixed<uint64_t>(&payload, alarms.size());
  for (const auto& [member, type] : alarms) {
    PutFixed<uint64_t>(&payload, member);
    PutFixed<uint32_t>(&payload, static_cast<uint32_t>(type));
  }
  PutFixed<int64_t>(&payload, meta_.log_clock_ms);
  const size_t session_count_offset = payload.size();
  PutFixed<uint64_t>(&payload, 0);
  uint64_t session_count = 0;
  engine_->ForEachSession([&](uint64_t client, std::string_view record) {
    ++session_count;
    PutFixed<uint64_t>(&payload, client);
    PutBytes(&payload, record);
  });
  count_bytes.clear();
  PutFixed<uint64_t>(&count_bytes, session_count);
  payload.replace(session_count_offset, count_bytes.size(), count_bytes);

  std::string out;
  out.reserve(kPreambleBytes + payload.size() + kTrailerBytes);
  out.append(kMagic);
  PutFixed<uint32_t>(&out, kFormatVersion);
  PutFixed<uint64_t>(&out, payload.size());
  out.append(payload);
  PutFixed<uint32_t>(&out, base::crc32c::Value(payload));
  return out;
}

absl::Status Store::Restore(std::string_view snapshot, std::string_view cluster_state) {
  if (snapshot.size() < kPreambleBytes + kTrailerBytes || snapshot.substr(0, 4) != kMagic) {
    return absl::DataLossError("kv snapshot is corrupt: missing header (not a raftkv kv snapshot)");
  }
  Reader preamble(snapshot.substr(4, kPreambleBytes - 4));
  const uint32_t format = preamble.Fixed<uint32_t>();
  const uint64_t payload_size = preamble.Fixed<uint64_t>();
  if (format < kFormatVersionWithoutLeases || format > kFormatVersion) {
    return absl::FailedPreconditionError(fmt::format(
        "kv snapshot has format version {}; this build reads versions {} to {} only (written "
        "by a newer raftkv?)",
        format, kFormatVersionWithoutLeases, kFormatVersion));
  }
  if (payload_size != snapshot.size() - kPreambleBytes - kTrailerBytes) {
    return absl::DataLossError(
        fmt::format("kv snapshot is corrupt: header says {} payload bytes, found {} (truncated?)",
                    payload_size, snapshot.size() - kPreambleBytes - kTrailerBytes));
  }
  const std::string_view payload = snapshot.substr(kPreambleBytes, payload_size);
  const uint32_t stored_crc =
      Reader(snapshot.substr(kPreambleBytes + payload_size)).Fixed<uint32_t>();
  if (base::crc32c::Value(payload) != stored_crc) {
    return absl::DataLossError("kv snapshot is corrupt: checksum mismatch");
  }

  Reader in(payload);
  const int64_t revision = in.Fixed<int64_t>();
  const int64_t compact_revision = in.Fixed<int64_t>();
  const uint64_t applied_index = in.Fixed<uint64_t>();
  const uint64_t key_count = in.Fixed<uint64_t>();
  if (!in.ok()) return Corrupt("short header", in.offset());
  if (revision < 1 || compact_revision < 0 || compact_revision > revision) {
    return Corrupt("impossible revisions", 0);
  }

  // Parsed whole and checked before the engine is touched: a bad snapshot changes nothing.
  std::vector<std::pair<std::string_view, std::vector<Version>>> keys;
  keys.reserve(key_count);
  int64_t size_bytes = 0;
  int64_t live_keys = 0;
  for (uint64_t k = 0; k < key_count; ++k) {
    std::string_view key = in.Bytes();
    const uint32_t version_count = in.Fixed<uint32_t>();
    if (!in.ok()) return Corrupt("truncated key", in.offset());
    if (key.empty() || version_count == 0) return Corrupt("empty key or history", in.offset());
    if (!keys.empty() && key <= keys.back().first) return Corrupt("keys out of order", in.offset());
    std::vector<Version> history;
    history.reserve(version_count);
    for (uint32_t v = 0; v < version_count; ++v) {
      Version version;
      version.mod_revision = in.Fixed<int64_t>();
      version.create_revision = in.Fixed<int64_t>();
      version.version = in.Fixed<int64_t>();
      version.lease = in.Fixed<int64_t>();
      const uint8_t flags = in.Fixed<uint8_t>();
      version.value = std::string(in.Bytes());
      version.tombstone = (flags & 1) != 0;
      if (!in.ok()) return Corrupt("truncated version", in.offset());
      const int64_t previous = history.empty() ? 0 : history.back().mod_revision;
      if (version.mod_revision <= previous || version.mod_revision > revision) {
        return Corrupt("version revisions out of order", in.offset());
      }
      size_bytes += VersionBytes(key.size(), version.value.size());
      history.push_back(std::move(version));
    }
    if (history.front().tombstone) return Corrupt("history starts with a delete", in.offset());
    if (!history.back().tombstone) ++live_keys;
    keys.emplace_back(key, std::move(history));
  }
  std::map<int64_t, int64_t> leases;  // id -> TTL
  if (format >= kFormatVersionWithoutAlarms) {
    const uint64_t lease_count = in.Fixed<uint64_t>();
    for (uint64_t l = 0; l < lease_count && in.ok(); ++l) {
      const int64_t id = in.Fixed<int64_t>();
      const int64_t ttl = in.Fixed<int64_t>();
      if (!in.ok()) break;
      if (id == 0 || ttl < 1 || (!leases.empty() && id <= leases.rbegin()->first)) {
        return Corrupt("impossible or unordered lease", in.offset());
      }
      leases.emplace_hint(leases.end(), id, ttl);
      size_bytes += kLeaseBytes;
    }
    if (!in.ok()) return Corrupt("truncated leases", in.offset());
  }
  AlarmSet alarms;
  if (format >= kFormatVersionWithoutSessions) {
    const uint64_t alarm_count = in.Fixed<uint64_t>();
    for (uint64_t a = 0; a < alarm_count && in.ok(); ++a) {
      const uint64_t member = in.Fixed<uint64_t>();
      const uint32_t type = in.Fixed<uint32_t>();
      if (!in.ok()) break;
      const auto alarm = std::make_pair(member, static_cast<etcdserverpb::AlarmType>(type));
      if (type == etcdserverpb::NONE || !etcdserverpb::AlarmType_IsValid(static_cast<int>(type)) ||
          (!alarms.empty() && alarm <= *alarms.rbegin())) {
        return Corrupt("impossible or unordered alarm", in.offset());
      }
      alarms.emplace_hint(alarms.end(), alarm);
    }
    if (!in.ok()) return Corrupt("truncated alarms", in.offset());
  }
  int64_t log_clock_ms = 0;
  struct Session {
    uint64_t client;
    std::string_view encoded;
    SessionTable::Entry entry;
  };
  std::vector<Session> sessions;
  int64_t session_bytes = 0;
  if (format >= kFormatVersion) {
    log_clock_ms = in.Fixed<int64_t>();
    const uint64_t session_count = in.Fixed<uint64_t>();
    if (!in.ok()) return Corrupt("truncated sessions", in.offset());
    if (log_clock_ms < 0) return Corrupt("negative log clock", in.offset());
    // A member builds no more than this, whatever the snapshot claims.
    if (session_count > kMaxSessions) return Corrupt("too many sessions", in.offset());
    sessions.reserve(session_count);
    for (uint64_t s = 0; s < session_count && in.ok(); ++s) {
      const uint64_t client = in.Fixed<uint64_t>();
      const std::string_view encoded = in.Bytes();
      if (!in.ok()) break;
      std::optional<SessionRecord> record = DecodeSessionRecord(encoded);
      if (client == 0 || !record || record->last_used_ms < 0 ||
          record->last_used_ms > log_clock_ms ||
          (!sessions.empty() && client <= sessions.back().client)) {
        return Corrupt("impossible or unordered session", in.offset());
      }
      const int64_t bytes = SessionBytes(encoded.size());
      session_bytes += bytes;
      sessions.push_back(
          {client,
           encoded,
           {.sequence = record->sequence, .last_used_ms = record->last_used_ms, .bytes = bytes}});
    }
    if (!in.ok()) return Corrupt("truncated sessions", in.offset());
    if (session_bytes > kMaxSessionBytes) return Corrupt("sessions over their bound", 0);
  }
  size_bytes += session_bytes;
  if (!in.done()) return Corrupt("trailing bytes", in.offset());
  for (const auto& [key, history] : keys) {
    const Version& live = history.back();
    if (live.tombstone || live.lease == 0) continue;
    if (!leases.contains(live.lease)) {
      return Corrupt("a key is attached to a lease that does not exist", 0);
    }
  }

  // Which keys a lease holds is not in the snapshot: it is the lease of each key's live version.
  engine_->Clear();
  for (const auto& [id, ttl] : leases) engine_->PutLease(id, ttl);
  for (auto& [key, history] : keys) {
    const Version& live = history.back();
    if (!live.tombstone && live.lease != 0) engine_->AttachKey(live.lease, key);
    // Appended oldest first: each version's live version is the one before it, unless that is
    // a tombstone.
    std::optional<size_t> live_value_bytes;
    for (Version& version : history) {
      const std::optional<size_t> next_live =
          version.tombstone ? std::nullopt : std::optional<size_t>(version.value.size());
      engine_->AppendVersion(key, std::move(version), live_value_bytes);
      live_value_bytes = next_live;
    }
  }
  for (const auto& [member, type] : alarms) engine_->PutAlarm(member, type);
  if (!cluster_state.empty()) engine_->PutClusterState(cluster_state);
  sessions_.Clear();
  for (const Session& session : sessions) {
    engine_->PutSession(session.client, session.encoded);
    sessions_.Set(session.client, session.entry);
  }
  meta_ = EngineMeta{.applied_index = applied_index,
                     .revision = revision,
                     .compact_revision = compact_revision,
                     .size_bytes = size_bytes,
                     .live_keys = live_keys,
                     .log_clock_ms = log_clock_ms};
  engine_->Commit(meta_);
  nospace_alarms_ = CountNoSpace(alarms);
  return absl::OkStatus();
}

}  // namespace raftkv::kv
