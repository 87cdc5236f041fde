#include "run_log.h"

namespace raftkv::faults {

RunLog::RunLog(const std::string& path) : start_(absl::Now()) {
  if (!path.empty()) file_ = std::fopen(path.c_str(), "a");
}

RunLog::~RunLog() {
  absl::MutexLock lock(&mu_);
  if (file_ != nullptr) std::fclose(file_);
}

void RunLog::Line(const std::string& text) {
  const absl::Time now = absl::Now();
  const std::string line =
      fmt::format("[+{:8.3f}s {}] {}\n", absl::ToDoubleSeconds(now - start_),
                  absl::FormatTime("%H:%M:%E3SZ", now, absl::UTCTimeZone()), text);
  absl::MutexLock lock(&mu_);
  std::fputs(line.c_str(), stdout);
  std::fflush(stdout);
  if (file_ != nullptr) {
    std::fputs(line.c_str(), file_);
    std::fflush(file_);
  }
}

}  // namespace raftkv::faults
