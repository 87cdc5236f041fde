// raftkv-server's logger, as etcd's --logger, --log-outputs and --log-level describe it.
//
// --logger capnslog (etcd 3.4's default) keeps raftkv's plain-text lines; --logger zap writes
// one JSON object per line with zap's field names ("level", "ts", "msg"), so log pipelines built
// for etcd 3.5 parse them. --log-outputs is a comma-separated list of stderr, stdout, default
// (stderr) or file paths (appended to).
//
// Thread-safety: MakeServerLogger once at start-up; the logger itself is thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "server/flags.h"
#include "spdlog/formatter.h"
#include "spdlog/spdlog.h"

namespace raftkv::server {

// `text` as the inside of a JSON string: quotes, backslashes and control characters escaped.
std::string JsonEscape(std::string_view text);

// Formats a log record as one JSON line: {"level":..,"ts":..,"name":..,"msg":..}.
class JsonLogFormatter final : public spdlog::formatter {
 public:
  explicit JsonLogFormatter(std::string member_name) : member_name_(std::move(member_name)) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  std::string member_name_;
};

// The logger named "raftkv" with the sinks and format the flags ask for, made the default
// logger. InvalidArgument for an unknown --logger or a log file that cannot be opened.
absl::StatusOr<std::shared_ptr<spdlog::logger>> MakeServerLogger(const ServerFlags& flags);

}  // namespace raftkv::server
