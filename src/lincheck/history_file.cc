#include "lincheck/history_file.h"

#include <cassert>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "fmt/core.h"
#include "lincheck/porcupine_format.h"
#include "lincheck/raftkv_format.h"
#include "lincheck/text_scan.h"

namespace raftkv::lincheck {

std::string_view HistoryFormatName(HistoryFormat format) {
  switch (format) {
    case HistoryFormat::kAuto:
      return "auto";
    case HistoryFormat::kJepsen:
      return "jepsen";
    case HistoryFormat::kPorcupineKv:
      return "kv";
    case HistoryFormat::kRaftkv:
      return "raftkv";
  }
  return "?";
}

std::optional<HistoryFormat> HistoryFormatFromName(std::string_view name) {
  for (HistoryFormat format : {HistoryFormat::kAuto, HistoryFormat::kJepsen,
                               HistoryFormat::kPorcupineKv, HistoryFormat::kRaftkv}) {
    if (HistoryFormatName(format) == name) return format;
  }
  return std::nullopt;
}

absl::StatusOr<HistoryFormat> DetectHistoryFormat(std::string_view text, std::string_view source) {
  for (const internal::Line& line : internal::SplitLines(text)) {
    const std::string_view content = internal::StripLeadingSpace(line.text);
    if (content.empty()) continue;
    if (content.starts_with("# raftkv-history")) return HistoryFormat::kRaftkv;
    if (content.front() == '#') continue;
    if (content.find("jepsen.util") != std::string_view::npos) return HistoryFormat::kJepsen;
    if (content.front() == '{') return HistoryFormat::kPorcupineKv;
    if ((content.front() >= '0' && content.front() <= '9') || content.front() == '-') {
      return HistoryFormat::kRaftkv;
    }
    return internal::ErrorAt(
        source, line.number,
        fmt::format("cannot tell the history format from {}: expected a Jepsen log line "
                    "(`INFO  jepsen.util - ...`), a porcupine kv map (`{{:process ...}}`) or a "
                    "raftkv event (`<time> <client> invoke ...`); use --format to say which",
                    internal::Excerpt(content)));
  }
  return HistoryFormat::kRaftkv;
}

absl::StatusOr<History> ParseHistory(std::string_view text, HistoryFormat format,
                                     std::string_view source) {
  if (format == HistoryFormat::kAuto) {
    absl::StatusOr<HistoryFormat> detected = DetectHistoryFormat(text, source);
    if (!detected.ok()) return detected.status();
    format = *detected;
  }
  switch (format) {
    case HistoryFormat::kJepsen:
      return ParseJepsenLog(text, source);
    case HistoryFormat::kPorcupineKv:
      return ParsePorcupineKv(text, source);
    case HistoryFormat::kRaftkv:
    case HistoryFormat::kAuto:
      return ParseRaftkvHistory(text, source);
  }
  return ParseRaftkvHistory(text, source);
}

absl::StatusOr<HistoryFile> ReadHistoryFile(const std::string& path, HistoryFormat format) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::NotFoundError(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  }
  std::ostringstream contents;
  contents << file.rdbuf();
  if (file.bad()) {
    return absl::UnavailableError(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  }
  const std::string text = std::move(contents).str();
  HistoryFile result;
  result.format = format;
  if (format == HistoryFormat::kAuto) {
    absl::StatusOr<HistoryFormat> detected = DetectHistoryFormat(text, path);
    if (!detected.ok()) return detected.status();
    result.format = *detected;
  }
  absl::StatusOr<History> history = ParseHistory(text, result.format, path);
  if (!history.ok()) return history.status();
  result.history = *std::move(history);
  return result;
}

std::unique_ptr<Model> ModelForFormat(HistoryFormat format, bool partition_by_key) {
  assert(format != HistoryFormat::kAuto && "detect the format before choosing a model");
  switch (format) {
    case HistoryFormat::kJepsen:
      return NewRegisterModel();
    case HistoryFormat::kPorcupineKv:
      return NewKvModel({.absent_reads_as_empty = true, .partition_by_key = partition_by_key});
    case HistoryFormat::kRaftkv:
    case HistoryFormat::kAuto:
      break;
  }
  return NewKvModel({.absent_reads_as_empty = false, .partition_by_key = partition_by_key});
}

}  // namespace raftkv::lincheck
