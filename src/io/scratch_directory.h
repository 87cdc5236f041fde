// A fresh directory under $TMPDIR (or /tmp) that is removed with everything in it when the
// object goes: for test stores, the simulator's engines and benchmarks, which need real files
// that nothing keeps afterwards.
//
// Thread-safety: thread-compatible.
#pragma once

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace raftkv::io {

class ScratchDirectory {
 public:
  // Creates <tmp>/<prefix>-XXXXXX. path() is empty when that fails.
  explicit ScratchDirectory(std::string_view prefix) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/" +
                          std::string(prefix) + "-XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) path_ = std::move(pattern);
  }
  ~ScratchDirectory() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace raftkv::io
