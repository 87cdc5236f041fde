#include "member_process.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace raftkv::faults {

absl::Status MemberProcess::Start(const std::vector<std::string>& argv,
                                  const std::string& netns_path, const std::string& log_path) {
  if (running()) return absl::OkStatus();
  // Everything the child needs is built before fork: between fork and exec only
  // async-signal-safe calls are allowed (the harness has gRPC and client threads).
  std::vector<std::string> args = argv;
  std::vector<char*> pointers;
  for (std::string& a : args) pointers.push_back(a.data());
  pointers.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    // Dies with the harness's thread that started it (the main thread, which lives until the
    // end of the run); the check closes the race with a parent that died before prctl.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    ::setsid();  // a terminal's Ctrl-C goes to the harness, which then cleans up
    if (!netns_path.empty()) {
      const int ns = ::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
      if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) ::_exit(125);
      ::close(ns);
    }
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::execv(pointers[0], pointers.data());
    ::_exit(127);
  }
  pid_ = pid;
  paused_ = false;
  // A server that cannot start exits at once; give it 200 ms to show that.
  for (int k = 0; k < 20; ++k) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      pid_ = -1;
      return absl::FailedPreconditionError(
          absl::StrCat(argv[0], " exited at start with status ",
                       WIFEXITED(status) ? WEXITSTATUS(status) : -1, "; see ", log_path));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return absl::OkStatus();
}

void MemberProcess::Kill() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);  // also ends a stopped process
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  paused_ = false;
}

void MemberProcess::Pause() {
  if (!running() || paused_) return;
  ::kill(pid_, SIGSTOP);
  paused_ = true;
}

void MemberProcess::Resume() {
  if (!running() || !paused_) return;
  ::kill(pid_, SIGCONT);
  paused_ = false;
}

bool MemberProcess::Exited() {
  if (!running()) return false;
  if (::waitpid(pid_, nullptr, WNOHANG) != pid_) return false;
  pid_ = -1;
  paused_ = false;
  return true;
}

}  // namespace raftkv::faults
