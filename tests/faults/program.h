// Running a program (ip, tc) to completion and collecting what it printed. The arguments go to
// execvp unchanged: no shell, so names and addresses need no quoting.
#pragma once

#include <string>
#include <vector>

namespace raftkv::faults {

struct ProgramResult {
  int exit_code = -1;  // -1: it could not be started or was killed by a signal
  std::string output;  // stdout and stderr together
};

ProgramResult RunProgram(const std::vector<std::string>& argv);

}  // namespace raftkv::faults
