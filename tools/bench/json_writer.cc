#include "json_writer.h"

#include <cassert>
#include <cmath>

#include "fmt/format.h"

namespace raftkv::bench {

void JsonWriter::Indent() {
  out_ += '\n';
  out_.append(2 * levels_.size(), ' ');
}

void JsonWriter::BeforeValue() {
  if (levels_.empty()) return;
  Level& level = levels_.back();
  if (level.after_key) {
    level.after_key = false;
    return;
  }
  assert(!level.is_object && "a value inside an object needs a Key() first");
  if (!level.empty) out_ += ',';
  level.empty = false;
  Indent();
}

void JsonWriter::Key(std::string_view key) {
  assert(!levels_.empty() && levels_.back().is_object && !levels_.back().after_key);
  Level& level = levels_.back();
  if (!level.empty) out_ += ',';
  level.empty = false;
  Indent();
  AppendEscaped(key);
  out_ += ": ";
  level.after_key = true;
}

void JsonWriter::BeginObject() {
  BeforeValue();
  out_ += '{';
  levels_.push_back({.is_object = true});
}

void JsonWriter::BeginArray() {
  BeforeValue();
  out_ += '[';
  levels_.push_back({.is_object = false});
}

void JsonWriter::EndObject() {
  assert(!levels_.empty() && levels_.back().is_object && !levels_.back().after_key);
  const bool empty = levels_.back().empty;
  levels_.pop_back();
  if (!empty) Indent();
  out_ += '}';
}

void JsonWriter::EndArray() {
  assert(!levels_.empty() && !levels_.back().is_object);
  const bool empty = levels_.back().empty;
  levels_.pop_back();
  if (!empty) Indent();
  out_ += ']';
}

void JsonWriter::String(std::string_view value) {
  BeforeValue();
  AppendEscaped(value);
}

void JsonWriter::Number(uint64_t value) {
  BeforeValue();
  out_ += std::to_string(value);
}

void JsonWriter::Number(int64_t value) {
  BeforeValue();
  out_ += std::to_string(value);
}

void JsonWriter::Number(double value) {
  assert(std::isfinite(value));
  BeforeValue();
  // Fixed notation keeps the numbers readable; trailing zeros say nothing.
  std::string text = fmt::format("{:.6f}", value);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  out_ += text;
}

void JsonWriter::Bool(bool value) {
  BeforeValue();
  out_ += value ? "true" : "false";
}

void JsonWriter::AppendEscaped(std::string_view text) {
  out_ += '"';
  for (char c : text) {
    switch (c) {
      case '"':
        out_ += "\\\"";
        break;
      case '\\':
        out_ += "\\\\";
        break;
      case '\n':
        out_ += "\\n";
        break;
      case '\t':
        out_ += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out_ += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
        } else {
          out_ += c;
        }
    }
  }
  out_ += '"';
}

}  // namespace raftkv::bench
