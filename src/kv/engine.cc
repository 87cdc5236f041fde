#include "kv/engine.h"

#include <cstdio>
#include <cstdlib>

namespace raftkv::kv {

absl::Status Engine::Checkpoint(const std::string& dir) const {
  return absl::UnimplementedError(
      "this key-value engine keeps its state in memory and cannot write it to " + dir +
      " as a checkpoint");
}

void FatalEngineError(std::string_view what, std::string_view detail) {
  std::fprintf(stderr,
               "kv engine failed: %.*s: %.*s; stopping, as this member's state can no "
               "longer be trusted to match the raft log\n",
               static_cast<int>(what.size()), what.data(), static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

}  // namespace raftkv::kv
