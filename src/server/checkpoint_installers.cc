#include "server/checkpoint_installers.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "kv/memory_engine.h"
#include "kv/rocksdb_engine.h"
#include "kv/store.h"

namespace raftkv::server {
namespace {

absl::Status CheckReceived(EngineFiles& files, uint64_t index) {
  absl::StatusOr<bool> there = files.HasReceived(index);
  if (!there.ok()) return there.status();
  if (!*there) {
    return absl::NotFoundError(absl::StrCat(
        "the snapshot refers to a checkpoint at index ", index, ", which is not in ",
        files.received_dir(index),
        " (the state on disk cannot be rebuilt here: remove this member, clear its data "
        "directory and add it again)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<kv::Engine>> RocksDbCheckpointInstaller::Install(
    uint64_t checkpoint_index, absl::FunctionRef<void()> close_engine) {
  if (absl::Status s = CheckReceived(*files_, checkpoint_index); !s.ok()) return s;
  close_engine();
  if (absl::Status s = files_->SwapIn(checkpoint_index); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<kv::RocksDbEngine>> engine =
      kv::RocksDbEngine::Open(files_->kv_dir());
  if (!engine.ok()) return engine.status();
  // Older checkpoints are of no use now; newer ones may belong to snapshots still on their way.
  files_->PruneReceived(std::nullopt, checkpoint_index);
  return std::unique_ptr<kv::Engine>(*std::move(engine));
}

absl::StatusOr<std::unique_ptr<kv::Engine>> MemoryCheckpointInstaller::Install(
    uint64_t checkpoint_index, absl::FunctionRef<void()> close_engine) {
  std::string source = files_->received_dir(checkpoint_index);
  absl::StatusOr<bool> received = files_->HasReceived(checkpoint_index);
  if (!received.ok()) return received.status();
  if (!*received) {
    // A member that ran with --engine rocksdb before: its own snapshots refer to its engine,
    // which is still in kv/.
    absl::StatusOr<bool> own = files_->HasEngine();
    if (!own.ok()) return own.status();
    if (!*own) return CheckReceived(*files_, checkpoint_index);
    source = files_->kv_dir();
  }
  absl::StatusOr<std::unique_ptr<kv::RocksDbEngine>> engine = kv::RocksDbEngine::Open(source);
  if (!engine.ok()) return engine.status();
  if ((*engine)->meta().applied_index < checkpoint_index) {
    return absl::NotFoundError(absl::StrCat("the snapshot refers to a state at index ",
                                            checkpoint_index, "; the one in ", source,
                                            " is at index ", (*engine)->meta().applied_index));
  }
  const std::string cluster_state = (*engine)->cluster_state();
  const std::string state = kv::Store(*std::move(engine)).Snapshot();
  close_engine();
  kv::Store copy;
  if (absl::Status s = copy.Restore(state, cluster_state); !s.ok()) return s;
  files_->PruneReceived(checkpoint_index, checkpoint_index);
  return copy.ReplaceEngine(std::make_unique<kv::MemoryEngine>());
}

}  // namespace raftkv::server
