#include "json_writer.h"

#include <gtest/gtest.h>

namespace raftkv::bench {
namespace {

TEST(JsonWriterTest, WritesNestedObjectsAndArraysWithCommas) {
  JsonWriter json;
  json.BeginObject();
  json.Key("n");
  json.Number(uint64_t{200});
  json.Key("list");
  json.BeginArray();
  json.String("a");
  json.Bool(false);
  json.EndArray();
  json.Key("empty");
  json.BeginObject();
  json.EndObject();
  json.EndObject();
  EXPECT_EQ(json.text(),
            "{\n  \"n\": 200,\n  \"list\": [\n    \"a\",\n    false\n  ],\n  \"empty\": {}\n}");
}

TEST(JsonWriterTest, EscapesQuotesBackslashesAndControlCharacters) {
  JsonWriter json;
  json.String("a\"b\\c\nd\x01");
  EXPECT_EQ(json.text(), R"("a\"b\\c\nd\u0001")");
}

TEST(JsonWriterTest, DoublesDropTrailingZeros) {
  JsonWriter json;
  json.BeginArray();
  json.Number(1.5);
  json.Number(10.0);
  json.Number(0.0);
  json.Number(0.1234567);
  json.EndArray();
  EXPECT_EQ(json.text(), "[\n  1.5,\n  10,\n  0,\n  0.123457\n]");
}

}  // namespace
}  // namespace raftkv::bench
