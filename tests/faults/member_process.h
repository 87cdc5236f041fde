// One raftkv-server process: started in the background (inside a network namespace when one is
// given), its output appended to a log file; killed with SIGKILL, paused with SIGSTOP, resumed
// with SIGCONT. A process this object started is killed when the object goes away, and also
// when the harness itself dies (PR_SET_PDEATHSIG), so no server outlives its run.
//
// Thread-safety: not thread-safe; the harness's main thread drives it.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace raftkv::faults {

class MemberProcess {
 public:
  MemberProcess() = default;
  ~MemberProcess() { Kill(); }
  MemberProcess(const MemberProcess&) = delete;
  MemberProcess& operator=(const MemberProcess&) = delete;

  // `argv[0]` is the server binary. `netns_path` (/var/run/netns/<name>) or "" for the
  // harness's own namespace. Fails if the process cannot start or exits at once (bad flags, a
  // data directory it refuses), naming the log.
  absl::Status Start(const std::vector<std::string>& argv, const std::string& netns_path,
                     const std::string& log_path);
  // SIGKILL and reap: a crash, with no chance to flush anything.
  void Kill();
  void Pause();
  void Resume();
  // True once the process exited on its own (it is then reaped). A removed member does this.
  bool Exited();

  bool running() const { return pid_ > 0; }
  bool paused() const { return paused_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  bool paused_ = false;
};

}  // namespace raftkv::faults
