#include "server/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace raftkv::server {
namespace {

// Like mkdir -p: etcd creates missing parents of --data-dir too.
absl::Status MakeDir(const std::string& path) {
  std::error_code error;
  std::filesystem::create_directories(path, error);
  if (!error) return absl::OkStatus();
  std::string why = absl::StrCat("cannot create the data directory ", path, ": ", error.message(),
                                 "; check --data-dir");
  return error == std::errc::permission_denied ? absl::PermissionDeniedError(why)
                                               : absl::InternalError(why);
}

}  // namespace

absl::StatusOr<DataDir> DataDir::Open(const std::string& path) {
  if (absl::Status s = MakeDir(path); !s.ok()) return s;
  if (absl::Status s = MakeDir(path + "/member"); !s.ok()) return s;
  const std::string lock_path = path + "/raftkv.lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("cannot open ", lock_path, ": ", std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat("the data directory ", path,
                     " is in use by another raftkv-server process; stop that "
                     "process or give this one its own --data-dir"));
  }
  return DataDir(path, fd);
}

DataDir::DataDir(DataDir&& other) noexcept
    : path_(std::move(other.path_)), lock_fd_(std::exchange(other.lock_fd_, -1)) {}

DataDir::~DataDir() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // closing releases the flock
}

}  // namespace raftkv::server
