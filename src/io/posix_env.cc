// Env::Default(): the POSIX implementation.
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <vector>

#include "io/env.h"

namespace raftkv::io {
namespace {

// Retries a system call interrupted by a signal.
template <typename F>
auto RetryEintr(F f) {
  decltype(f()) r;
  do {
    r = f();
  } while (r < 0 && errno == EINTR);
  return r;
}

class PosixFile final : public File {
 public:
  PosixFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  absl::Status Append(std::string_view data) override { return WriteAt(size_, data); }

  absl::Status WriteAt(uint64_t offset, std::string_view data) override {
    const char* p = data.data();
    size_t left = data.size();
    uint64_t pos = offset;
    while (left > 0) {
      const ssize_t n = RetryEintr([&] { return ::pwrite(fd_, p, left, static_cast<off_t>(pos)); });
      if (n < 0) return ErrnoError(errno, "pwrite", path_);
      p += n;
      pos += static_cast<uint64_t>(n);
      left -= static_cast<size_t>(n);
    }
    if (pos > size_) size_ = pos;
    return absl::OkStatus();
  }

  absl::Status GatherWriteAt(uint64_t offset, std::span<const std::string_view> pieces) override {
    std::vector<iovec> iov;
    iov.reserve(pieces.size());
    for (std::string_view p : pieces) {
      if (!p.empty()) iov.push_back({const_cast<char*>(p.data()), p.size()});
    }
    size_t next = 0;  // iov[next] is the first piece not completely written
    uint64_t pos = offset;
    while (next < iov.size()) {
      const int count = static_cast<int>(std::min<size_t>(iov.size() - next, IOV_MAX));
      ssize_t n =
          RetryEintr([&] { return ::pwritev(fd_, &iov[next], count, static_cast<off_t>(pos)); });
      if (n < 0) return ErrnoError(errno, "pwritev", path_);
      pos += static_cast<uint64_t>(n);
      // A short write (or IOV_MAX) leaves pieces over; skip what went out and go on.
      while (n > 0) {
        const size_t take = std::min(static_cast<size_t>(n), iov[next].iov_len);
        iov[next].iov_base = static_cast<char*>(iov[next].iov_base) + take;
        iov[next].iov_len -= take;
        n -= static_cast<ssize_t>(take);
        if (iov[next].iov_len == 0) ++next;
      }
    }
    if (pos > size_) size_ = pos;
    return absl::OkStatus();
  }

  absl::StatusOr<size_t> ReadAt(uint64_t offset, size_t n, char* scratch) const override {
    size_t done = 0;
    while (done < n) {
      const ssize_t r = RetryEintr([&] {
        return ::pread(fd_, scratch + done, n - done, static_cast<off_t>(offset + done));
      });
      if (r < 0) return ErrnoError(errno, "pread", path_);
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    return done;
  }

  absl::Status Sync() override {
    if (::fsync(fd_) != 0) return ErrnoError(errno, "fsync", path_);
    return absl::OkStatus();
  }

  absl::Status DataSync() override {
    if (::fdatasync(fd_) != 0) return ErrnoError(errno, "fdatasync", path_);
    return absl::OkStatus();
  }

  absl::Status Truncate(uint64_t size) override {
    if (RetryEintr([&] { return ::ftruncate(fd_, static_cast<off_t>(size)); }) != 0) {
      return ErrnoError(errno, "ftruncate", path_);
    }
    size_ = size;
    return absl::OkStatus();
  }

  absl::Status Allocate(uint64_t size) override {
    if (size <= size_) return absl::OkStatus();
    const int err = ::posix_fallocate(fd_, 0, static_cast<off_t>(size));
    if (err == EOPNOTSUPP || err == EINVAL) {
      // File systems without fallocate (tmpfs on old kernels, some FUSE): grow with a hole.
      // Space is then not reserved, but reads still see zeros.
      return Truncate(size);
    }
    if (err != 0) return ErrnoError(err, "fallocate", path_);
    size_ = size;
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> Size() const override { return size_; }

  absl::Status SetDirectWrites(bool on) override {
    const int flags = ::fcntl(fd_, F_GETFL);
    if (flags < 0) return ErrnoError(errno, "fcntl(F_GETFL)", path_);
    const int wanted = on ? (flags | O_DIRECT) : (flags & ~O_DIRECT);
    if (wanted == flags) return absl::OkStatus();
    if (::fcntl(fd_, F_SETFL, wanted) != 0) {
      // EINVAL: the file system has no direct I/O (tmpfs before Linux 6.6, some FUSE).
      if (errno == EINVAL) {
        return absl::UnimplementedError(fmt::format("{} takes no direct writes", path_));
      }
      return ErrnoError(errno, "fcntl(F_SETFL, O_DIRECT)", path_);
    }
    return absl::OkStatus();
  }

  absl::Status Close() override {
    if (fd_ < 0) return absl::OkStatus();
    const int r = ::close(fd_);
    fd_ = -1;
    if (r != 0) return ErrnoError(errno, "close", path_);
    return absl::OkStatus();
  }

 private:
  const std::string path_;
  int fd_;
  uint64_t size_;  // tracked so Append need not fstat; only this handle writes the file
};

class PosixLock final : public FileLock {
 public:
  explicit PosixLock(int fd) : fd_(fd) {}
  ~PosixLock() override { ::close(fd_); }  // closing the descriptor drops the flock

 private:
  int fd_;
};

class PosixEnv final : public Env {
 public:
  absl::StatusOr<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override {
    int flags = O_CLOEXEC;
    switch (mode) {
      case OpenMode::kReadOnly:
        flags |= O_RDONLY;
        break;
      case OpenMode::kReadWrite:
        flags |= O_RDWR;
        break;
      case OpenMode::kCreate:
        flags |= O_RDWR | O_CREAT;
        break;
      case OpenMode::kCreateExclusive:
        flags |= O_RDWR | O_CREAT | O_EXCL;
        break;
      case OpenMode::kCreateTruncate:
        flags |= O_RDWR | O_CREAT | O_TRUNC;
        break;
    }
    const int fd = RetryEintr([&] { return ::open(path.c_str(), flags, 0644); });
    if (fd < 0) return ErrnoError(errno, "open", path);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      return ErrnoError(err, "fstat", path);
    }
    return std::make_unique<PosixFile>(path, fd, static_cast<uint64_t>(st.st_size));
  }

  absl::Status CreateDir(const std::string& path) override {
    for (size_t pos = 1; pos <= path.size(); ++pos) {
      if (pos != path.size() && path[pos] != '/') continue;
      const std::string prefix = path.substr(0, pos);
      if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoError(errno, "mkdir", prefix);
      }
    }
    return absl::OkStatus();
  }

  absl::Status SyncDir(const std::string& dir) override {
    const int fd =
        RetryEintr([&] { return ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
    if (fd < 0) return ErrnoError(errno, "open", dir);
    const int r = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (r != 0) return ErrnoError(err, "fsync", dir);
    return absl::OkStatus();
  }

  absl::Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoError(errno, "rename", fmt::format("{} -> {}", from, to));
    }
    return absl::OkStatus();
  }

  absl::Status Remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoError(errno, "unlink", path);
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return ErrnoError(errno, "opendir", dir);
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* e = ::readdir(d)) {
      const std::string_view name = e->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    const int err = errno;
    ::closedir(d);
    if (err != 0) return ErrnoError(err, "readdir", dir);
    return names;
  }

  absl::StatusOr<bool> Exists(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT) return false;
    return ErrnoError(errno, "stat", path);
  }

  absl::StatusOr<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    const int fd =
        RetryEintr([&] { return ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644); });
    if (fd < 0) return ErrnoError(errno, "open", path);
    // flock locks belong to the open file description, so a second open of the same file in
    // this process conflicts too, exactly like another process would.
    if (RetryEintr([&] { return ::flock(fd, LOCK_EX | LOCK_NB); }) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        return absl::FailedPreconditionError(
            fmt::format("lock {}: already held by another process or handle", path));
      }
      return ErrnoError(err, "flock", path);
    }
    return std::make_unique<PosixLock>(fd);
  }
};

}  // namespace

Env* Env::Default() {
  static Env* env = new PosixEnv();
  return env;
}

}  // namespace raftkv::io
