#include "server/engine_files.h"

#include <filesystem>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "transport/checkpoint.h"

namespace raftkv::server {
namespace {

constexpr char kSendPrefix[] = "snap-send-";

}  // namespace

EngineFiles::EngineFiles(std::string member_dir, std::shared_ptr<spdlog::logger> logger,
                         io::Env* env)
    : member_dir_(std::move(member_dir)),
      logger_(std::move(logger)),
      env_(env != nullptr ? env : io::Env::Default()) {}

std::string EngineFiles::received_dir(uint64_t index) const {
  return transport::ReceivedCheckpointPath(member_dir_, index);
}

void EngineFiles::RemoveTree(const std::string& path) {
  // Env has no directory removal; what is removed here is never read again, so a failure only
  // costs disk space.
  std::error_code error;
  std::filesystem::remove_all(path, error);
  if (error) logger_->warn("cannot remove {}: {}", path, error.message());
}

absl::Status EngineFiles::Recover() {
  const std::string kv = kv_dir();
  const std::string old = kv + ".old";
  absl::StatusOr<bool> has_old = env_->Exists(old);
  if (!has_old.ok()) return has_old.status();
  if (*has_old) {
    absl::StatusOr<bool> has_kv = env_->Exists(kv);
    if (!has_kv.ok()) return has_kv.status();
    if (*has_kv) {
      // The swap was done; only the old files were still to go.
      logger_->info("removing {}, left by a checkpoint install that completed", old);
      RemoveTree(old);
    } else {
      // Stopped between the two renames: the old state goes back; the checkpoint is still
      // there and the driver installs it again.
      logger_->warn("a checkpoint install was interrupted; putting {} back as {}", old, kv);
      if (absl::Status s = env_->Rename(old, kv); !s.ok()) return s;
      if (absl::Status s = env_->SyncDir(member_dir_); !s.ok()) return s;
    }
  }
  absl::StatusOr<std::vector<std::string>> names = env_->ListDir(member_dir_);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    if (transport::IsPartialCheckpointName(name) || name.starts_with(kSendPrefix)) {
      RemoveTree(io::JoinPath(member_dir_, name));
    }
  }
  return absl::OkStatus();
}

void EngineFiles::PruneReceived(std::optional<uint64_t> keep, uint64_t keep_above) {
  absl::StatusOr<std::vector<std::string>> names = env_->ListDir(member_dir_);
  if (!names.ok()) {
    logger_->warn("cannot list {}: {}", member_dir_, std::string(names.status().message()));
    return;
  }
  for (const std::string& name : *names) {
    const std::optional<uint64_t> index = transport::ParseReceivedCheckpointName(name);
    if (!index.has_value() || index == keep || *index > keep_above) continue;
    logger_->info("removing the received checkpoint {}, which no snapshot needs", name);
    RemoveTree(io::JoinPath(member_dir_, name));
  }
}

absl::Status EngineFiles::SwapIn(uint64_t index) {
  const std::string kv = kv_dir();
  const std::string old = kv + ".old";
  absl::StatusOr<bool> has_old = env_->Exists(old);
  if (!has_old.ok()) return has_old.status();
  if (*has_old) RemoveTree(old);
  absl::StatusOr<bool> has_kv = env_->Exists(kv);
  if (!has_kv.ok()) return has_kv.status();
  if (*has_kv) {
    if (absl::Status s = env_->Rename(kv, old); !s.ok()) return s;
  }
  if (absl::Status s = env_->Rename(received_dir(index), kv); !s.ok()) return s;
  // From here on a crash finds the new state in kv/ (and Recover removes kv.old).
  if (absl::Status s = env_->SyncDir(member_dir_); !s.ok()) return s;
  RemoveTree(old);
  return absl::OkStatus();
}

std::string EngineFiles::NewSendDirectory() {
  return absl::StrCat(member_dir_, "/", kSendPrefix, sends_.fetch_add(1));
}

}  // namespace raftkv::server
