// The on-disk layout of RocksDbEngine: how keys, versions and metadata become RocksDB keys and
// values. Changing anything here changes the format of existing data directories.
//
// Column families:
//   versions   escaped(key) 0x00 0x01 | BE64(~revision)  ->  version record
//              One entry per version. escaped(key) writes each 0x00 byte of the key as 0x00 0xFF,
//              so the 0x00 0x01 terminator never occurs inside it, and bytewise order of the
//              encoded keys is the order of (key, newest revision first): "a" < "a\0" < "ab",
//              and within a key the bitwise complement puts higher revisions first. A read at
//              revision r is one seek to (key, r): it lands on the newest version <= r.
//   revisions  BE64(revision) | key  ->  "" (a put) or "d" (a delete)
//              The revision log: which keys each revision wrote, in (revision, key) order. Watch
//              catch-up reads it forward; compaction walks and deletes it up to the compaction
//              revision, a bounded number of records per commit, to find the versions to drop.
//   meta       "m"                               ->  meta record (EngineMeta)
//              "l" | BE64(lease id ^ 2^63)       ->  BE64(granted TTL)
//              "k" | BE64(lease id ^ 2^63) | key ->  ""   (the key is attached to the lease)
//              "a" | BE64(member id) | BE32(type) -> ""   (a raised alarm)
//              "s" | BE64(client id)             ->  session record (kv/session.h; opaque here)
//              "o" | BE64(revision)              ->  BE64(obsolete bytes through the revision)
//              "p"                               ->  compaction record
//              Flipping the sign bit makes bytewise order the signed order of lease ids.
//              Obsolete bytes: a version becomes obsolete at the revision of the next version of
//              its key (a tombstone at its own revision), and a compaction at revision R drops
//              exactly the versions obsolete at or below R. An "o" mark holds the VersionBytes of
//              every version obsoleted at or below its revision, counted from an origin the
//              compaction record fixes; only revisions that obsoleted something have one, and
//              compaction deletes the marks at or below its revision. So what a compaction
//              frees is the difference of two totals, whatever the number of versions.
//   default    unused (RocksDB requires it).
//
// Records (big-endian integers):
//   version = u8 flags (bit 0: tombstone) | i64 create_revision | i64 version | i64 lease
//             | value bytes                      (a tombstone is the flags byte alone)
//   meta    = u8 format (2) | u64 applied_index | i64 revision | i64 compact_revision
//             | i64 size_bytes | i64 live_keys | i64 log_clock_ms
//             Format 1 (before client sessions) lacks log_clock_ms; it is read as 0.
//   compaction = u8 format (1) | i64 pending revision (0: nothing left to drop physically)
//             | i64 obsolete bytes at the compaction revision | resume key
//             The resume key is the revision log key where the walk goes on: every record
//             before it is gone. A directory written before compaction ran in steps has no
//             compaction record and no marks; opening it builds the marks from the revision log
//             (which then held only the writes since the last compaction) and writes the record.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kv/engine.h"

namespace raftkv::kv::rocksdb_format {

inline constexpr std::string_view kVersionsFamily = "versions";
inline constexpr std::string_view kRevisionsFamily = "revisions";
inline constexpr std::string_view kMetaFamily = "meta";

// ---- versions ----
// escaped(key) and the terminator: every entry of `key` starts with it, and no other key's do.
std::string VersionKeyPrefix(std::string_view key);
// The entry of `key` at `revision`; seeking to it finds the newest version at or below it.
std::string VersionKey(std::string_view key, int64_t revision);
// Sorts after every entry of `key` and before every entry of the keys after it.
std::string VersionKeyLimit(std::string_view key);
// nullopt when `encoded` is not a version key.
struct DecodedVersionKey {
  std::string key;
  int64_t revision = 0;
};
std::optional<DecodedVersionKey> DecodeVersionKey(std::string_view encoded);

// The record of `version` (all fields but mod_revision, which is in the key).
std::string EncodeVersion(const Version& version);
// nullopt when `record` is malformed.
std::optional<Version> DecodeVersion(std::string_view record, int64_t mod_revision);

// ---- revisions ----
std::string RevisionKey(int64_t revision, std::string_view key);
struct DecodedRevisionKey {
  int64_t revision = 0;
  std::string_view key;  // points into the encoded key
};
std::optional<DecodedRevisionKey> DecodeRevisionKey(std::string_view encoded);

// ---- meta ----
inline constexpr std::string_view kMetaKey = "m";
std::string EncodeMeta(const EngineMeta& meta);
std::optional<EngineMeta> DecodeMeta(std::string_view record);

inline constexpr char kLeasePrefix = 'l';
inline constexpr char kLeaseKeyPrefix = 'k';
inline constexpr char kAlarmPrefix = 'a';
// The cluster state (Engine::cluster_state), one record.
inline constexpr std::string_view kClusterStateKey = "c";
inline constexpr char kSessionPrefix = 's';
std::string LeaseKey(int64_t id);
// "k" | id: every attachment of the lease starts with it.
std::string LeaseKeysPrefix(int64_t id);
std::string LeaseKeyKey(int64_t id, std::string_view key);
std::string AlarmKey(uint64_t member, etcdserverpb::AlarmType type);
std::string SessionKey(uint64_t client);
std::optional<uint64_t> DecodeSessionKey(std::string_view encoded);
// The lease id of a LeaseKey, the key of a LeaseKeyKey, the alarm of an AlarmKey.
std::optional<int64_t> DecodeLeaseKey(std::string_view encoded);
std::optional<std::pair<uint64_t, etcdserverpb::AlarmType>> DecodeAlarmKey(
    std::string_view encoded);

inline constexpr char kObsoleteMarkPrefix = 'o';
std::string ObsoleteMarkKey(int64_t revision);
// The revision of an ObsoleteMarkKey; nullopt for any other key.
std::optional<int64_t> DecodeObsoleteMarkKey(std::string_view encoded);

// Where compaction stands (RocksDbEngine): what is still to be dropped physically, from where.
inline constexpr std::string_view kCompactionKey = "p";
struct CompactionRecord {
  // The compaction revision whose obsolete versions are not all gone yet; 0 when none.
  int64_t pending_revision = 0;
  // The obsolete bytes (see above) through the last compaction revision.
  int64_t obsolete_bytes_at_compaction = 0;
  // The revision log key where the walk goes on.
  std::string resume_key;

  friend bool operator==(const CompactionRecord&, const CompactionRecord&) = default;
};
std::string EncodeCompactionRecord(const CompactionRecord& record);
std::optional<CompactionRecord> DecodeCompactionRecord(std::string_view encoded);

std::string EncodeInt64(int64_t value);
std::optional<int64_t> DecodeInt64(std::string_view bytes);

}  // namespace raftkv::kv::rocksdb_format
