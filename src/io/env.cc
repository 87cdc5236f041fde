#include "io/env.h"

#include <fmt/format.h>

#include <cstring>

namespace raftkv::io {

std::string JoinPath(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  if (dir.back() == '/') return fmt::format("{}{}", dir, name);
  return fmt::format("{}/{}", dir, name);
}

std::string DirName(std::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

absl::Status File::SetDirectWrites(bool on) {
  if (on) return absl::UnimplementedError("direct writes are not available on this Env");
  return absl::OkStatus();
}

absl::Status ErrnoError(int error_number, std::string_view op, std::string_view path) {
  return absl::Status(absl::ErrnoToStatusCode(error_number),
                      fmt::format("{} {}: {}", op, path, std::strerror(error_number)));
}

absl::StatusOr<std::string> ReadFileToString(Env* env, const std::string& path) {
  auto file = env->OpenFile(path, OpenMode::kReadOnly);
  if (!file.ok()) return file.status();
  auto size = (*file)->Size();
  if (!size.ok()) return size.status();
  std::string data(*size, '\0');
  auto n = (*file)->ReadAt(0, data.size(), data.data());
  if (!n.ok()) return n.status();
  data.resize(*n);
  return data;
}

}  // namespace raftkv::io
