#include "server/log_setup.h"

#include <chrono>
#include <ctime>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "spdlog/sinks/basic_file_sink.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/sinks/stdout_sinks.h"

namespace raftkv::server {
namespace {

// zap's level names; spdlog's "warning" and "critical" are zap's "warn" and "fatal".
std::string_view ZapLevel(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    default:
      return "fatal";
  }
}

void Append(spdlog::memory_buf_t& dest, std::string_view text) {
  dest.append(text.data(), text.data() + text.size());
}

}  // namespace

std::string JsonEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  return out;
}

void JsonLogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  auto since_epoch = msg.time.time_since_epoch();
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds);
  std::time_t t = seconds.count();
  std::tm utc;
  gmtime_r(&t, &utc);
  std::string ts = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                               utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                               millis.count());
  Append(dest, "{\"level\":\"");
  Append(dest, ZapLevel(msg.level));
  Append(dest, "\",\"ts\":\"");
  Append(dest, ts);
  Append(dest, "\",\"name\":\"");
  Append(dest, JsonEscape(member_name_));
  Append(dest, "\",\"msg\":\"");
  Append(dest, JsonEscape(std::string_view(msg.payload.data(), msg.payload.size())));
  Append(dest, "\"}\n");
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const {
  return std::make_unique<JsonLogFormatter>(member_name_);
}

absl::StatusOr<std::shared_ptr<spdlog::logger>> MakeServerLogger(const ServerFlags& flags) {
  bool zap = flags.logger == "zap";
  if (!zap && flags.logger != "capnslog") {
    return absl::InvalidArgumentError(
        absl::StrCat("--logger is '", flags.logger, "'; use capnslog or zap"));
  }
  std::vector<spdlog::sink_ptr> sinks;
  for (absl::string_view piece : absl::StrSplit(flags.log_outputs, ',', absl::SkipWhitespace())) {
    std::string output(absl::StripAsciiWhitespace(piece));
    if (output == "default" || output == "stderr") {
      sinks.push_back(zap ? spdlog::sink_ptr(std::make_shared<spdlog::sinks::stderr_sink_mt>())
                          : std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    } else if (output == "stdout") {
      sinks.push_back(zap ? spdlog::sink_ptr(std::make_shared<spdlog::sinks::stdout_sink_mt>())
                          : std::make_shared<spdlog::sinks::stdout_color_sink_mt>());
    } else {
      try {
        sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(output));
      } catch (const spdlog::spdlog_ex& e) {
        return absl::InvalidArgumentError(
            absl::StrCat("--log-outputs: cannot open ", output, ": ", e.what()));
      }
    }
  }
  if (sinks.empty()) {
    return absl::InvalidArgumentError("--log-outputs is empty; use default, stderr, stdout or a file");
  }
  auto logger = std::make_shared<spdlog::logger>("raftkv", sinks.begin(), sinks.end());
  if (zap) {
    logger->set_formatter(std::make_unique<JsonLogFormatter>(flags.name));
  } else {
    logger->set_pattern(fmt::format("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [{}] %v", flags.name));
  }
  logger->set_level(spdlog::level::from_str(flags.log_level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return logger;
}

}  // namespace raftkv::server
