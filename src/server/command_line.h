// raftkv-server's command line and ETCD_* environment, read as etcd 3.4 reads them.
//
// Every flag of etcd's table (server/etcd_flag_table.h) is accepted; the implemented ones fill
// ServerFlags, the others become one warning each. As with Go's flag package, `-name` means
// `--name`, and a boolean flag takes `--flag`, `--flag=true` or `--flag=false`. A flag that is
// not etcd's is an error (exit code 2, as etcd).
//
// Environment (etcd's pkg/flags): a flag left off the command line is read from ETCD_<NAME>
// (upper case, '-' → '_'); a variable that a command-line flag shadows is an error, as etcd
// refuses it; an unrecognized ETCD_* variable is a warning.
//
// Thread-safety: pure function.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "server/flags.h"

namespace raftkv::server {

struct CommandLine {
  ServerFlags flags;
  // To be logged once logging is set up, one line each.
  std::vector<std::string> warnings;
  // Set when the process must exit now: 0 after --help or --version, 2 for a wrong flag or
  // environment variable; `message` is what to print (stdout for 0, stderr otherwise).
  std::optional<int> exit_code;
  std::string message;
};

// `args` without the program name; `environment` as "KEY=value" strings (environ).
// Does not apply derived defaults nor ValidateFlags.
CommandLine ParseCommandLine(const std::vector<std::string>& args,
                             const std::vector<std::string>& environment);

// "ETCD_" + upper-cased `flag` with '-' replaced by '_', as etcd's flags.FlagToEnv.
std::string EtcdEnvName(std::string_view flag);

}  // namespace raftkv::server
