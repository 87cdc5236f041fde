#include "transport/partial_checkpoint.h"

#include <filesystem>
#include <set>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "transport/checkpoint.h"

namespace raftkv::transport {
namespace {

struct Claims {
  absl::Mutex mu;
  std::set<std::string> paths ABSL_GUARDED_BY(mu);
};

Claims& AllClaims() {
  // Never destroyed: sinks may outlive static destruction's order.
  static Claims* const claims = new Claims;
  return *claims;
}

constexpr std::string_view kManifestSuffix = ".manifest";
constexpr std::string_view kResumableMarker = ".part-";

}  // namespace

std::unique_ptr<PartialClaim> PartialClaim::Take(const std::string& path) {
  Claims& claims = AllClaims();
  absl::MutexLock lock(&claims.mu);
  if (!claims.paths.insert(path).second) return nullptr;
  return std::unique_ptr<PartialClaim>(new PartialClaim(path));
}

PartialClaim::~PartialClaim() {
  Claims& claims = AllClaims();
  absl::MutexLock lock(&claims.mu);
  claims.paths.erase(path_);
}

void PartialClaim::RemoveUnclaimed(io::Env* env, const std::string& dir, const std::string& keep) {
  absl::StatusOr<std::vector<std::string>> names = env->ListDir(dir);
  if (!names.ok()) return;
  Claims& claims = AllClaims();
  // Under the lock: a partial is not claimed between the check and its removal.
  absl::MutexLock lock(&claims.mu);
  for (const std::string& name : *names) {
    if (!IsPartialCheckpointName(name) || name.find(kResumableMarker) == std::string::npos) {
      continue;
    }
    std::string_view base = name;
    if (base.ends_with(kManifestSuffix)) base.remove_suffix(kManifestSuffix.size());
    const std::string partial = io::JoinPath(dir, base);
    if (partial == keep || claims.paths.contains(partial)) continue;
    std::error_code ignored;
    std::filesystem::remove_all(io::JoinPath(dir, name), ignored);
  }
}

bool SameCheckpoint(const peerpb::CheckpointManifest& a, const peerpb::CheckpointManifest& b) {
  if (a.index() != b.index() || a.transfer_id() != b.transfer_id() ||
      a.files_size() != b.files_size()) {
    return false;
  }
  for (int i = 0; i < a.files_size(); ++i) {
    if (a.files(i).name() != b.files(i).name() ||
        a.files(i).size_bytes() != b.files(i).size_bytes()) {
      return false;
    }
  }
  return true;
}

absl::StatusOr<peerpb::CheckpointManifest> ReadPartialManifest(io::Env* env,
                                                               const std::string& path,
                                                               uint64_t max_bytes) {
  const std::string manifest_path = PartialManifestPath(path);
  absl::StatusOr<std::unique_ptr<io::File>> file =
      env->OpenFile(manifest_path, io::OpenMode::kReadOnly);
  if (!file.ok()) {
    if (absl::IsNotFound(file.status())) return absl::NotFoundError("no partial checkpoint");
    return file.status();
  }
  absl::StatusOr<uint64_t> size = (*file)->Size();
  if (!size.ok()) return size.status();
  if (*size > max_bytes) {
    return absl::DataLossError(absl::StrCat(manifest_path, " holds ", *size, " bytes"));
  }
  std::string data(static_cast<size_t>(*size), '\0');
  absl::StatusOr<size_t> read = (*file)->ReadAt(0, data.size(), data.data());
  if (!read.ok()) return read.status();
  data.resize(*read);
  peerpb::CheckpointManifest manifest;
  if (!manifest.ParseFromString(data)) {
    return absl::DataLossError(absl::StrCat(manifest_path, " is not a checkpoint manifest"));
  }
  return manifest;
}

absl::Status WritePartialManifest(io::Env* env, const std::string& path,
                                  const peerpb::CheckpointManifest& manifest) {
  // Not synced: a partial does not outlive the process.
  absl::StatusOr<std::unique_ptr<io::File>> file =
      env->OpenFile(PartialManifestPath(path), io::OpenMode::kCreateTruncate);
  if (!file.ok()) return file.status();
  if (absl::Status s = (*file)->Append(manifest.SerializeAsString()); !s.ok()) return s;
  return (*file)->Close();
}

absl::StatusOr<HeldPart> MeasurePartial(io::Env* env, const std::string& path,
                                        const peerpb::CheckpointManifest& manifest) {
  absl::StatusOr<std::vector<std::string>> names = env->ListDir(path);
  if (!names.ok()) return names.status();
  const std::set<std::string> present(names->begin(), names->end());
  HeldPart held;
  size_t counted = 0;
  bool whole = true;  // every file so far is complete: the next one may be there too
  for (int i = 0; i < manifest.files_size() && whole; ++i) {
    const peerpb::CheckpointFile& listed = manifest.files(i);
    if (!present.contains(listed.name())) break;
    absl::StatusOr<std::unique_ptr<io::File>> file =
        env->OpenFile(io::JoinPath(path, listed.name()), io::OpenMode::kReadOnly);
    if (!file.ok()) return file.status();
    absl::StatusOr<uint64_t> size = (*file)->Size();
    if (!size.ok()) return size.status();
    if (*size > listed.size_bytes()) {
      return absl::DataLossError(absl::StrCat("the partial checkpoint ", path, " holds ", *size,
                                              " bytes of ", listed.name(), "; ",
                                              listed.size_bytes(), " are listed"));
    }
    ++counted;
    held.bytes += *size;
    whole = *size == listed.size_bytes();
    held.next_file = static_cast<size_t>(i) + (whole ? 1 : 0);
    held.next_file_started = !whole;
    held.next_file_bytes = whole ? 0 : *size;
  }
  if (counted != present.size()) {
    return absl::DataLossError(absl::StrCat("the partial checkpoint ", path, " holds ",
                                            present.size(), " files; a transfer writes ", counted));
  }
  return held;
}

void RemovePartial(const std::string& path) {
  std::error_code ignored;
  std::filesystem::remove_all(path, ignored);
  std::filesystem::remove(PartialManifestPath(path), ignored);
}

}  // namespace raftkv::transport
