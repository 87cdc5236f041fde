// The logging hook of the consensus core.
//
// The core never writes to a global logger: it reports through the Logger handed in by Config,
// so tests can capture or silence it and the server can route it to spdlog.
// Implementations must be callable from the thread that drives the RawNode.
#pragma once

#include <string_view>

namespace raftkv::raft {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

class Logger {
 public:
  virtual ~Logger() = default;
  virtual void Log(LogLevel level, std::string_view message) = 0;
};

// Drops everything. The default when Config::logger is null.
class DiscardLogger final : public Logger {
 public:
  void Log(LogLevel, std::string_view) override {}
};

}  // namespace raftkv::raft
