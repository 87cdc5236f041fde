#include "storage/wal_format.h"

#include <fmt/format.h>

#include <cassert>
#include <cstring>

#include "base/crc32c.h"

namespace raftkv::storage {
namespace {

void PutU64(std::string* out, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(v >> (8 * i));
  out->append(buf, 8);
}

uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

// Reads `count` u64 values from payload; false if it is too short.
bool GetU64s(std::string_view payload, uint64_t* out, size_t count) {
  if (payload.size() < count * 8) return false;
  for (size_t i = 0; i < count; ++i) out[i] = GetU64(payload.data() + 8 * i);
  return true;
}

bool ParseHex(std::string_view s, uint64_t* v) {
  if (s.size() != 16) return false;
  uint64_t r = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return false;
    }
    r = r << 4 | static_cast<uint64_t>(d);
  }
  *v = r;
  return true;
}

}  // namespace

void AppendRecord(RecordType type, std::string_view payload, std::string* out) {
  AppendRecordInPlace(
      type, payload.size(), [&](char* dst) { std::memcpy(dst, payload.data(), payload.size()); },
      out);
}

void SealRecord(RecordType type, size_t payload_bytes, char* record) {
  assert(payload_bytes <= kMaxRecordPayloadBytes);
  const uint32_t word = static_cast<uint32_t>(payload_bytes) | static_cast<uint32_t>(type) << 24;
  for (int i = 0; i < 4; ++i) record[4 + i] = static_cast<char>(word >> (8 * i));
  std::memset(record + kRecordHeaderBytes + payload_bytes, 0,
              RecordBytes(payload_bytes) - kRecordHeaderBytes - payload_bytes);
  const uint32_t crc = base::crc32c::Mask(base::crc32c::Value(record + 4, 4 + payload_bytes));
  for (int i = 0; i < 4; ++i) record[i] = static_cast<char>(crc >> (8 * i));
}

DecodeResult DecodeRecord(std::string_view data, DecodedRecord* record) {
  if (data.size() < kRecordHeaderBytes) return DecodeResult::kTruncated;
  const uint32_t stored = GetU32(data.data());
  const uint32_t word = GetU32(data.data() + 4);
  if (stored == 0 && word == 0) return DecodeResult::kZero;
  const uint32_t length = word & kMaxRecordPayloadBytes;
  const uint8_t type = static_cast<uint8_t>(word >> 24);
  if (type < static_cast<uint8_t>(RecordType::kSegmentHeader) ||
      type > static_cast<uint8_t>(kSyncPoint)) {
    return DecodeResult::kBadType;
  }
  const uint64_t size = RecordBytes(length);
  if (size > data.size()) return DecodeResult::kTruncated;
  const uint32_t crc = base::crc32c::Value(data.data() + 4, 4 + length);
  if (base::crc32c::Mask(crc) != stored) return DecodeResult::kBadChecksum;
  record->type = static_cast<RecordType>(type);
  record->payload = data.substr(kRecordHeaderBytes, length);
  record->size_bytes = size;
  return DecodeResult::kOk;
}

const char* DecodeResultName(DecodeResult r) {
  switch (r) {
    case DecodeResult::kOk:
      return "ok";
    case DecodeResult::kZero:
      return "zero header";
    case DecodeResult::kTruncated:
      return "record runs past the end of the file";
    case DecodeResult::kBadType:
      return "unknown record type";
    case DecodeResult::kBadChecksum:
      return "checksum mismatch";
  }
  return "?";
}

std::string EncodeSegmentHeader(const SegmentHeader& h) {
  std::string out;
  PutU64(&out, h.seq);
  PutU64(&out, h.last_index);
  PutU64(&out, h.hard_state.term());
  PutU64(&out, h.hard_state.vote());
  PutU64(&out, h.hard_state.commit());
  PutU64(&out, h.snapshot ? h.snapshot->index : 0);
  PutU64(&out, h.snapshot ? h.snapshot->term : 0);
  PutU64(&out, h.snapshot ? 1 : 0);
  return out;
}

bool DecodeSegmentHeader(std::string_view payload, SegmentHeader* h) {
  uint64_t v[8];
  if (!GetU64s(payload, v, 8)) return false;
  h->seq = v[0];
  h->last_index = v[1];
  h->hard_state.set_term(v[2]);
  h->hard_state.set_vote(v[3]);
  h->hard_state.set_commit(v[4]);
  h->snapshot.reset();
  if (v[7] & 1) h->snapshot = SnapshotMarker{v[5], v[6]};
  return true;
}

std::string EncodeHardState(const raftpb::HardState& hs) {
  std::string out;
  PutU64(&out, hs.term());
  PutU64(&out, hs.vote());
  PutU64(&out, hs.commit());
  return out;
}

bool DecodeHardState(std::string_view payload, raftpb::HardState* hs) {
  uint64_t v[3];
  if (!GetU64s(payload, v, 3)) return false;
  hs->set_term(v[0]);
  hs->set_vote(v[1]);
  hs->set_commit(v[2]);
  return true;
}

std::string EncodeSyncPoint(uint64_t synced_end) {
  std::string out;
  PutU64(&out, synced_end);
  return out;
}

bool DecodeSyncPoint(std::string_view payload, uint64_t* synced_end) {
  return GetU64s(payload, synced_end, 1);
}

std::string EncodeSnapshotMarker(const SnapshotMarker& m, bool replace) {
  std::string out;
  PutU64(&out, m.index);
  PutU64(&out, m.term);
  PutU64(&out, replace ? 1 : 0);
  return out;
}

bool DecodeSnapshotMarker(std::string_view payload, SnapshotMarker* m, bool* replace) {
  uint64_t v[3];
  if (!GetU64s(payload, v, 3)) return false;
  m->index = v[0];
  m->term = v[1];
  *replace = (v[2] & 1) != 0;
  return true;
}

std::string SegmentFileName(uint64_t seq) { return fmt::format("wal-{:016x}.log", seq); }

std::optional<uint64_t> ParseSegmentFileName(std::string_view name) {
  if (name.size() != 24 || name.substr(0, 4) != "wal-" || name.substr(20) != ".log") {
    return std::nullopt;
  }
  uint64_t seq;
  if (!ParseHex(name.substr(4, 16), &seq)) return std::nullopt;
  return seq;
}

std::string SnapshotFileName(uint64_t index, uint64_t term) {
  return fmt::format("snap-{:016x}-{:016x}.snap", index, term);
}

std::optional<SnapshotMarker> ParseSnapshotFileName(std::string_view name) {
  if (name.size() != 43 || name.substr(0, 5) != "snap-" || name[21] != '-' ||
      name.substr(38) != ".snap") {
    return std::nullopt;
  }
  SnapshotMarker m;
  if (!ParseHex(name.substr(5, 16), &m.index) || !ParseHex(name.substr(22, 16), &m.term)) {
    return std::nullopt;
  }
  return m;
}

}  // namespace raftkv::storage
