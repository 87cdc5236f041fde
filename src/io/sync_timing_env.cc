#include "io/sync_timing_env.h"

#include <utility>

namespace raftkv::io {

class SyncTimingEnv::TimedFile final : public File {
 public:
  TimedFile(std::unique_ptr<File> base, std::string path, const Observer* observe)
      : base_(std::move(base)), path_(std::move(path)), observe_(observe) {}

  absl::Status Append(std::string_view data) override { return base_->Append(data); }
  absl::Status WriteAt(uint64_t offset, std::string_view data) override {
    return base_->WriteAt(offset, data);
  }
  absl::Status GatherWriteAt(uint64_t offset, std::span<const std::string_view> pieces) override {
    return base_->GatherWriteAt(offset, pieces);
  }
  absl::StatusOr<size_t> ReadAt(uint64_t offset, size_t n, char* scratch) const override {
    return base_->ReadAt(offset, n, scratch);
  }
  absl::Status Sync() override { return Timed([this] { return base_->Sync(); }); }
  absl::Status DataSync() override { return Timed([this] { return base_->DataSync(); }); }
  absl::Status Truncate(uint64_t size) override { return base_->Truncate(size); }
  absl::Status Allocate(uint64_t size) override { return base_->Allocate(size); }
  absl::StatusOr<uint64_t> Size() const override { return base_->Size(); }
  absl::Status Close() override { return base_->Close(); }
  absl::Status SetDirectWrites(bool on) override { return base_->SetDirectWrites(on); }

 private:
  template <typename Fn>
  absl::Status Timed(Fn sync) {
    const absl::Time start = absl::Now();
    absl::Status status = sync();
    (*observe_)(path_, absl::Now() - start);
    return status;
  }

  std::unique_ptr<File> base_;
  const std::string path_;
  const Observer* observe_;
};

SyncTimingEnv::SyncTimingEnv(Env* base, Observer observe)
    : base_(base), observe_(std::move(observe)) {}

absl::StatusOr<std::unique_ptr<File>> SyncTimingEnv::OpenFile(const std::string& path,
                                                              OpenMode mode) {
  absl::StatusOr<std::unique_ptr<File>> file = base_->OpenFile(path, mode);
  if (!file.ok()) return file.status();
  return std::make_unique<TimedFile>(*std::move(file), path, &observe_);
}

}  // namespace raftkv::io
