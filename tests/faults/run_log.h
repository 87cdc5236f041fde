// The fault harness's log: every line stamped with the time since the run started and the wall
// clock (UTC), written to stdout and to <run dir>/harness.log, so that a failing run can be read
// next to the members' own logs and replayed step by step from its seed.
//
// Thread-safety: thread-safe (clients, the nemesis and the harness write to one log).
#pragma once

#include <cstdio>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "fmt/core.h"

namespace raftkv::faults {

class RunLog {
 public:
  // `path` may be empty: stdout only.
  explicit RunLog(const std::string& path);
  ~RunLog();
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;

  void Line(const std::string& text);

  template <typename... Args>
  void Print(fmt::format_string<Args...> format, Args&&... args) {
    Line(fmt::format(format, std::forward<Args>(args)...));
  }

  absl::Duration elapsed() const { return absl::Now() - start_; }

 private:
  const absl::Time start_;
  absl::Mutex mu_;
  std::FILE* file_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace raftkv::faults
