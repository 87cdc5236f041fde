// Reading a history file in any of the supported formats, and the model each format is judged
// with. This is what `raftkv-lincheck` and the tests use; the formats themselves live in
// porcupine_format.h and raftkv_format.h.
//
// Stateless functions; thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lincheck/history.h"
#include "lincheck/model.h"

namespace raftkv::lincheck {

enum class HistoryFormat {
  kAuto,         // decide from the first meaningful line
  kJepsen,       // porcupine's jepsen/etcd_NNN.log: one register
  kPorcupineKv,  // porcupine's kv/cNN-*.txt: a key-value map where absent reads as ""
  kRaftkv,       // this project's format (raftkv_format.h): a key-value map
};

std::string_view HistoryFormatName(HistoryFormat format);  // "auto", "jepsen", "kv", "raftkv"
std::optional<HistoryFormat> HistoryFormatFromName(std::string_view name);

// The format of `text`: `# raftkv-history` or a line starting with a number is raftkv, a line
// with `jepsen.util` is Jepsen, a line starting with `{` is porcupine kv. An empty (or
// comment-only) text is an empty raftkv history. `source` names the input in errors.
absl::StatusOr<HistoryFormat> DetectHistoryFormat(std::string_view text, std::string_view source);

// Parses `text` in `format` (kAuto detects it first).
absl::StatusOr<History> ParseHistory(std::string_view text, HistoryFormat format,
                                     std::string_view source);

struct HistoryFile {
  HistoryFormat format = HistoryFormat::kRaftkv;  // never kAuto
  History history;
};

// Reads and parses the file at `path`; I/O errors and malformed content are returned as
// errors naming the file (and line).
absl::StatusOr<HistoryFile> ReadHistoryFile(const std::string& path,
                                            HistoryFormat format = HistoryFormat::kAuto);

// The model a format's histories are judged with. `partition_by_key` = false keeps the
// key-value map whole (a slow cross-check); it does not matter for the one-register Jepsen
// format. REQUIRES: format != kAuto.
std::unique_ptr<Model> ModelForFormat(HistoryFormat format, bool partition_by_key = true);

}  // namespace raftkv::lincheck
