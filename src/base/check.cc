#include "base/check.h"

#include <cstdio>
#include <cstdlib>

namespace raftkv::base {

void CheckFailed(const char* file, int line, const char* condition, const std::string& message) {
  // One write, flushed (stderr is unbuffered), so the line survives the abort.
  std::fprintf(stderr, "invariant broken: %s [%s] at %s:%d\n", message.c_str(), condition, file,
               line);
  std::abort();
}

}  // namespace raftkv::base
