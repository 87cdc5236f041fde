#include "storage/snapshot_file.h"

#include <fmt/format.h>

#include <cstring>

#include "base/crc32c.h"
#include "storage/wal_format.h"

namespace raftkv::storage {
namespace {

constexpr char kMagic[8] = {'R', 'K', 'V', 'S', 'N', 'A', 'P', '1'};
constexpr size_t kHeaderBytes = 24;

void PutFixed(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

uint64_t GetFixed(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

}  // namespace

absl::Status WriteSnapshotFile(io::Env* env, const std::string& dir,
                               const raftpb::Snapshot& snapshot) {
  std::string payload;
  if (!snapshot.SerializeToString(&payload)) {
    return absl::InternalError("snapshot does not serialize");
  }
  std::string data(kMagic, sizeof(kMagic));
  PutFixed(&data, base::crc32c::Mask(base::crc32c::Value(payload)), 4);
  PutFixed(&data, 0, 4);
  PutFixed(&data, payload.size(), 8);
  data += payload;

  const std::string name =
      SnapshotFileName(snapshot.metadata().index(), snapshot.metadata().term());
  const std::string path = io::JoinPath(dir, name);
  const std::string tmp = path + std::string(kTempSuffix);
  auto file = env->OpenFile(tmp, io::OpenMode::kCreateTruncate);
  if (!file.ok()) return file.status();
  if (absl::Status s = (*file)->Append(data); !s.ok()) return s;
  if (absl::Status s = (*file)->Sync(); !s.ok()) return s;
  if (absl::Status s = (*file)->Close(); !s.ok()) return s;
  if (absl::Status s = env->Rename(tmp, path); !s.ok()) return s;
  return env->SyncDir(dir);
}

absl::StatusOr<raftpb::Snapshot> ReadSnapshotFile(io::Env* env, const std::string& path) {
  auto data = io::ReadFileToString(env, path);
  if (!data.ok()) return data.status();
  auto corrupt = [&](std::string_view why) {
    return absl::DataLossError(fmt::format("snapshot file {} is corrupt: {}", path, why));
  };
  if (data->size() < kHeaderBytes || std::memcmp(data->data(), kMagic, sizeof(kMagic)) != 0) {
    return corrupt("bad header");
  }
  const uint32_t stored = static_cast<uint32_t>(GetFixed(data->data() + 8, 4));
  const uint64_t length = GetFixed(data->data() + 16, 8);
  if (length != data->size() - kHeaderBytes) {
    return corrupt(fmt::format("length {} but {} bytes follow the header", length,
                               data->size() - kHeaderBytes));
  }
  const std::string_view payload(data->data() + kHeaderBytes, length);
  if (base::crc32c::Mask(base::crc32c::Value(payload)) != stored) {
    return corrupt("checksum mismatch");
  }
  raftpb::Snapshot snapshot;
  if (!snapshot.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return corrupt("payload does not parse");
  }
  return snapshot;
}

}  // namespace raftkv::storage
