#include "server/checkpoint_source.h"

#include <algorithm>
#include <filesystem>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "node/state_reference.h"

namespace raftkv::server {
namespace {

// The files of a checkpoint directory, in name order. A checkpoint is flat; anything else in
// it could not be sent.
absl::StatusOr<std::vector<transport::CheckpointFile>> ListFiles(const std::string& dir) {
  std::vector<transport::CheckpointFile> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    if (!entry.is_regular_file(error)) {
      return absl::InternalError(absl::StrCat("the checkpoint in ", dir, " holds ",
                                              entry.path().string(), ", which is not a file"));
    }
    const uint64_t size = entry.file_size(error);
    if (error) break;
    files.push_back({entry.path().filename().string(), size});
  }
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot list the checkpoint in ", dir, ": ", error.message()));
  }
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return files;
}

}  // namespace

absl::StatusOr<std::optional<transport::CheckpointFiles>> EngineCheckpointSource::Make(
    const raftpb::Snapshot& snapshot) {
  if (!node::ReferencedCheckpoint(snapshot.data()).has_value()) return std::nullopt;
  transport::CheckpointFiles checkpoint;
  checkpoint.dir = files_->NewSendDirectory();
  const absl::Time start = absl::Now();
  absl::StatusOr<LockedApplier::CheckpointTaken> taken = state_->Checkpoint(checkpoint.dir);
  absl::StatusOr<std::vector<transport::CheckpointFile>> listed =
      taken.ok() ? ListFiles(checkpoint.dir) : taken.status();
  absl::StatusOr<std::string> reference =
      listed.ok() ? node::RetargetReference(snapshot.data(), taken->applied_index)
                  : listed.status();
  if (!reference.ok()) {
    Release(checkpoint);
    return reference.status();
  }
  checkpoint.index = taken->applied_index;
  checkpoint.files = *std::move(listed);
  checkpoint.snapshot_data = *std::move(reference);
  logger_->info(
      "checkpoint of the state at index {} for the snapshot at index {}: {} files in {} ({} ms, "
      "{} ms of them with applying paused)",
      checkpoint.index, snapshot.metadata().index(), checkpoint.files.size(), checkpoint.dir,
      absl::ToInt64Milliseconds(absl::Now() - start),
      absl::ToInt64Milliseconds(taken->held_reader_lock));
  return checkpoint;
}

absl::StatusOr<std::optional<std::string>> EngineCheckpointSource::Retarget(
    const raftpb::Snapshot& snapshot, uint64_t index) {
  if (!node::ReferencedCheckpoint(snapshot.data()).has_value()) return std::nullopt;
  return node::RetargetReference(snapshot.data(), index);
}

void EngineCheckpointSource::Release(const transport::CheckpointFiles& checkpoint) {
  // The files are hard links to the engine's (or copies): removing them frees nothing the
  // engine still uses.
  std::error_code error;
  std::filesystem::remove_all(checkpoint.dir, error);
  if (error) logger_->warn("cannot remove {}: {}", checkpoint.dir, error.message());
}

}  // namespace raftkv::server
