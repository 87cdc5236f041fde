// A temporary directory for the engine tests, removed with everything in it at the end.
// Thread-safety: test-only, single-threaded.
#pragma once

#include <string>

#include "gtest/gtest.h"
#include "io/scratch_directory.h"

namespace raftkv::kv::testing {

// A scratch directory for an engine, which a test without one cannot go on with.
class TempDir {
 public:
  TempDir() : dir_("raftkv-engine") {
    if (dir_.path().empty()) ADD_FAILURE() << "cannot create a temporary directory";
  }
  const std::string& path() const { return dir_.path(); }

 private:
  io::ScratchDirectory dir_;
};

}  // namespace raftkv::kv::testing
