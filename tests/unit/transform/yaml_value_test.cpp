#include "transform/yaml_value.hpp"

#include <gtest/gtest.h>

namespace touchpoint::core::transform {
namespace {

Json convert(const std::string& yaml) { return yaml_to_json(YAML::Load("v: " + yaml)["v"], ConfigSource("p.yaml")); }

std::string convert_error(const std::string& yaml) {
  try {
    convert(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(YamlValue, PlainScalarsFollowTheCoreSchema) {
  for (const char* text : {"null", "Null", "NULL", "~", ""}) EXPECT_EQ(convert(text), Json(nullptr)) << text;
  for (const char* text : {"true", "True", "TRUE"}) EXPECT_EQ(convert(text), Json(true)) << text;
  for (const char* text : {"false", "False", "FALSE"}) EXPECT_EQ(convert(text), Json(false)) << text;
  EXPECT_EQ(convert("42"), Json(42));
  EXPECT_TRUE(convert("42").is_number_integer());
  EXPECT_EQ(convert("-7"), Json(-7));
  EXPECT_EQ(convert("+7"), Json(7));
  EXPECT_EQ(convert("0o17"), Json(15));
  EXPECT_EQ(convert("0x1F"), Json(31));
  EXPECT_EQ(convert("01234"), Json(1234));  // quote postal codes!
  EXPECT_EQ(convert("-9223372036854775808"), Json(INT64_MIN));
  EXPECT_EQ(convert("18446744073709551615"), Json(UINT64_MAX));
  EXPECT_EQ(convert("1.5"), Json(1.5));
  EXPECT_TRUE(convert("1.5").is_number_float());
  EXPECT_EQ(convert(".5"), Json(0.5));
  EXPECT_EQ(convert("1e3"), Json(1000.0));
  EXPECT_EQ(convert("-2.5E-1"), Json(-0.25));
}

TEST(YamlValue, EverythingElseIsAString) {
  for (const char* text : {"yes", "no", "on", "DE", "1.2.3", "0x", "12abc", "+49 170", "e5", "."}) {
    EXPECT_EQ(convert(text), Json(text)) << text;
  }
}

TEST(YamlValue, QuotedAndStrTaggedScalarsStayStrings) {
  EXPECT_EQ(convert("\"1\""), Json("1"));
  EXPECT_EQ(convert("'true'"), Json("true"));
  EXPECT_EQ(convert("\"null\""), Json("null"));
  EXPECT_EQ(convert("!!str 12"), Json("12"));
  EXPECT_EQ(convert("''"), Json(""));
}

TEST(YamlValue, ExplicitCoreTags) {
  EXPECT_EQ(convert("!!int 12"), Json(12));
  EXPECT_EQ(convert("!!float 12"), Json(12.0));
  EXPECT_TRUE(convert("!!float 12").is_number_float());
  EXPECT_EQ(convert("!!bool true"), Json(true));
  EXPECT_EQ(convert_error("!!int abc"), "p.yaml:1:4: 'abc' is not a valid !!int");
  EXPECT_EQ(convert_error("!!bool yes"), "p.yaml:1:4: 'yes' is not a valid !!bool");
  EXPECT_EQ(convert_error("!custom x"), "p.yaml:1:4: unsupported YAML tag '!custom'");
}

TEST(YamlValue, NonFiniteNumbersAreRejected) {
  EXPECT_EQ(convert_error(".inf"), "p.yaml:1:4: non-finite number '.inf' has no JSON representation");
  EXPECT_EQ(convert_error("-.Inf"), "p.yaml:1:4: non-finite number '-.Inf' has no JSON representation");
  EXPECT_EQ(convert_error(".nan"), "p.yaml:1:4: non-finite number '.nan' has no JSON representation");
  EXPECT_EQ(convert("'.inf'"), Json(".inf"));
}

TEST(YamlValue, MapsAndSequences) {
  EXPECT_EQ(convert("{ email: true, sms: 'no', since: 2024 }"),
            Json::parse(R"({"email": true, "sms": "no", "since": 2024})"));
  EXPECT_EQ(convert("[1, \"2\", three, null]"), Json::parse(R"([1, "2", "three", null])"));
  EXPECT_EQ(convert_error("{ [a]: 1 }"), "p.yaml:1:6: map keys must be strings");
}

}  // namespace
}  // namespace touchpoint::core::transform
