// A minimal streaming JSON writer for the benchmark report: objects, arrays, strings and
// numbers, with commas and escaping taken care of. Not a general library: it asserts on misuse
// (a value where a key is expected) rather than reporting it.
//
// Thread-safety: not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace raftkv::bench {

class JsonWriter {
 public:
  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  // Inside an object: the key of the next value.
  void Key(std::string_view key);
  void String(std::string_view value);
  void Number(uint64_t value);
  void Number(int64_t value);
  // Finite values only; written with up to 6 significant digits after the point.
  void Number(double value);
  void Bool(bool value);

  // The document written so far, indented by two spaces per level.
  const std::string& text() const { return out_; }

 private:
  struct Level {
    bool is_object;
    bool empty = true;
    bool after_key = false;
  };
  // Writes the separator and indentation before a value or key.
  void BeforeValue();
  void Indent();
  void AppendEscaped(std::string_view text);

  std::string out_;
  std::vector<Level> levels_;
};

}  // namespace raftkv::bench
