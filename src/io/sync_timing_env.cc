#include "io/sync_timing_env.h"

#include <utility>

namespace raftkv::io {

class SyncTimingEnv::TimedFile final : public FileWrapper {
 public:
  TimedFile(std::unique_ptr<File> base, std::string path, const Observer* observe)
      : FileWrapper(std::move(base)), path_(std::move(path)), observe_(observe) {}

  absl::Status Sync() override { return Timed([this] { return base()->Sync(); }); }
  absl::Status DataSync() override { return Timed([this] { return base()->DataSync(); }); }

 private:
  template <typename Fn>
  absl::Status Timed(Fn sync) {
    const absl::Time start = absl::Now();
    absl::Status status = sync();
    (*observe_)(path_, absl::Now() - start);
    return status;
  }

  const std::string path_;
  const Observer* observe_;
};

SyncTimingEnv::SyncTimingEnv(Env* base, Observer observe)
    : EnvWrapper(base), observe_(std::move(observe)) {}

absl::StatusOr<std::unique_ptr<File>> SyncTimingEnv::OpenFile(const std::string& path,
                                                              OpenMode mode) {
  absl::StatusOr<std::unique_ptr<File>> file = base()->OpenFile(path, mode);
  if (!file.ok()) return file.status();
  return std::make_unique<TimedFile>(*std::move(file), path, &observe_);
}

}  // namespace raftkv::io
