#include "body_parser.hpp"

#include <gtest/gtest.h>

namespace touchpoint::webhook {
namespace {

class BodyParserTest : public ::testing::Test {
 protected:
  std::optional<ParseError> parse(std::string_view body) { return parser_.parse(body, options_, batch_); }
  std::string_view field(size_t i, Slice ParsedRecord::*member) const { return batch_.view(batch_.records[i].*member); }
  std::string_view data(size_t i) const { return field(i, &ParsedRecord::data); }
  std::string_view id(size_t i) const { return field(i, &ParsedRecord::id); }
  std::string_view type(size_t i) const { return field(i, &ParsedRecord::type); }
  std::string_view key(size_t i) const { return field(i, &ParsedRecord::key); }
  std::string_view meta(size_t i) const { return field(i, &ParsedRecord::meta); }

  BodyParser parser_;
  ParseOptions options_;
  ParsedBatch batch_;
};

TEST_F(BodyParserTest, SingleObjectIsMinified) {
  ASSERT_FALSE(parse(" {\n  \"id\" : \"u1\",\n  \"tags\" : [ 1 , 2 ],\n  \"x\": {\"y\": null}\n}\n"));
  EXPECT_EQ(batch_.format, BodyFormat::json);
  ASSERT_EQ(batch_.records.size(), 1u);
  EXPECT_EQ(data(0), R"({"id":"u1","tags":[1,2],"x":{"y":null}})");
  EXPECT_EQ(id(0), "u1");
  EXPECT_EQ(type(0), "event");
  EXPECT_EQ(key(0), "");
  EXPECT_EQ(meta(0), "");
  EXPECT_EQ(batch_.records[0].ts_ms, 0);
}

TEST_F(BodyParserTest, StringsAreReEscaped) {
  ASSERT_FALSE(parse(R"({"s":"a\"b\\c\n\u00e9\ud83d\ude00\u0001"})"));
  EXPECT_EQ(data(0), "{\"s\":\"a\\\"b\\\\c\\n\xc3\xa9\xf0\x9f\x98\x80\\u0001\"}");
}

TEST_F(BodyParserTest, ArrayOfObjects) {
  ASSERT_FALSE(parse(R"([{"id":"a"}, {"id":7}, {"messageId":"m"}, {}])"));
  EXPECT_EQ(batch_.format, BodyFormat::json_array);
  ASSERT_EQ(batch_.records.size(), 4u);
  EXPECT_EQ(id(0), "a");
  EXPECT_EQ(id(1), "7");
  EXPECT_EQ(id(2), "m");
  EXPECT_EQ(id(3), "");
  EXPECT_EQ(data(3), "{}");
}

TEST_F(BodyParserTest, EmptyArrayHasNoRecords) {
  ASSERT_FALSE(parse(" [ ] "));
  EXPECT_TRUE(batch_.records.empty());
}

TEST_F(BodyParserTest, Ndjson) {
  ASSERT_FALSE(parse("{\"id\":\"1\"}\n\n  {\"id\":\"2\"}\r\n\t\r\n{\"id\":\"3\"}"));
  EXPECT_EQ(batch_.format, BodyFormat::ndjson);
  ASSERT_EQ(batch_.records.size(), 3u);
  EXPECT_EQ(id(0), "1");
  EXPECT_EQ(id(1), "2");
  EXPECT_EQ(data(2), R"({"id":"3"})");
}

TEST_F(BodyParserTest, PrettyPrintedObjectIsNotNdjson) {
  ASSERT_FALSE(parse("{\n\"a\": 1,\n\"b\": {\n\"c\": 2\n}\n}\n"));
  EXPECT_EQ(batch_.format, BodyFormat::json);
  ASSERT_EQ(batch_.records.size(), 1u);
  EXPECT_EQ(data(0), R"({"a":1,"b":{"c":2}})");
}

TEST_F(BodyParserTest, SingleObjectWithTrailingNewlines) {
  ASSERT_FALSE(parse("{\"a\":1}\n\n\n"));
  EXPECT_EQ(batch_.format, BodyFormat::json);
  EXPECT_EQ(batch_.records.size(), 1u);
}

TEST_F(BodyParserTest, Envelope) {
  ASSERT_FALSE(parse(R"({"id":"e1","type":"profile","key":"c-1","ts":1700000000123,
                         "data":{"email":"a@b.c"},"meta":{"ip":"1.2.3.4"},"extra":"ignored"})"));
  ASSERT_EQ(batch_.records.size(), 1u);
  EXPECT_EQ(id(0), "e1");
  EXPECT_EQ(type(0), "profile");
  EXPECT_EQ(key(0), "c-1");
  EXPECT_EQ(batch_.records[0].ts_ms, 1700000000123);
  EXPECT_EQ(data(0), R"({"email":"a@b.c"})");
  EXPECT_EQ(meta(0), R"({"ip":"1.2.3.4"})");
}

TEST_F(BodyParserTest, EnvelopeDefaultsAndRfc3339) {
  ASSERT_FALSE(
      parse(R"([{"data":{}}, {"type":"","ts":"2024-01-02T03:04:05+01:00","data":{"x":1}}, {"ts":null,"data":{}}])"));
  ASSERT_EQ(batch_.records.size(), 3u);
  EXPECT_EQ(id(0), "");
  EXPECT_EQ(type(0), "event");
  EXPECT_EQ(type(1), "event");
  EXPECT_EQ(batch_.records[1].ts_ms, 1704161045000);
  EXPECT_EQ(batch_.records[2].ts_ms, 0);
}

TEST_F(BodyParserTest, NonObjectDataIsNotAnEnvelope) {
  ASSERT_FALSE(parse(R"({"id":"x","data":"just a string"})"));
  EXPECT_EQ(data(0), R"({"id":"x","data":"just a string"})");
}

TEST_F(BodyParserTest, EnvelopeFieldTypesAreChecked) {
  auto e = parse(R"({"id":"ok","data":{}}
{"id":true,"data":{}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "line 2: envelope 'id' must be a string");
  EXPECT_TRUE(e->line);
  EXPECT_EQ(e->position, 2u);
  e = parse(R"({"ts":"yesterday","data":{}})");
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("'ts'"), std::string::npos);
  e = parse(R"([{"a":1}, {"meta":[1],"data":{}}])");
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("'meta'"), std::string::npos);
  EXPECT_EQ(e->position, 10u);
  EXPECT_FALSE(e->line);
  EXPECT_TRUE(parse(R"({"type":5,"data":{}})"));
  EXPECT_TRUE(parse(R"({"key":[],"data":{}})"));
  EXPECT_TRUE(parse(R"({"ts":1.5,"data":{}})"));
}

TEST_F(BodyParserTest, ConfiguredFields) {
  options_.default_type = "profile";
  options_.id_field = "user_id";
  options_.key_field = "email";
  ASSERT_FALSE(parse(R"([{"user_id":"u-1","email":"a@b.c","id":"ignored"}, {"user_id":null,"messageId":"m-2"},
                         {"user_id":18446744073709551615,"email":42}])"));
  ASSERT_EQ(batch_.records.size(), 3u);
  EXPECT_EQ(id(0), "u-1");
  EXPECT_EQ(key(0), "a@b.c");
  EXPECT_EQ(type(0), "profile");
  EXPECT_EQ(id(1), "m-2");
  EXPECT_EQ(key(1), "");
  EXPECT_EQ(id(2), "18446744073709551615");
  EXPECT_EQ(key(2), "42");
}

TEST_F(BodyParserTest, NonStringIdIsIgnoredInFlatObjects) {
  ASSERT_FALSE(parse(R"({"id":{"nested":1},"messageId":"fallback"})"));
  EXPECT_EQ(id(0), "fallback");
  ASSERT_FALSE(parse(R"({"id":1.5})"));
  EXPECT_EQ(id(0), "");
}

TEST_F(BodyParserTest, MalformedJsonReportsByteOffset) {
  auto e = parse(R"({"a":1,})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->position, 7u);
  EXPECT_FALSE(e->line);
  EXPECT_EQ(e->message.rfind("malformed JSON: ", 0), 0u);
  e = parse(R"([{"a":1},{"b":)");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->position, 14u);
  EXPECT_NE(e->message.find("truncated"), std::string::npos);
  e = parse("{\"a\":\"\xff\"}");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->position, 6u);
  EXPECT_NE(e->message.find("invalid UTF-8"), std::string::npos);
  e = parse("garbage");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->position, 0u);
}

TEST_F(BodyParserTest, EmptyAndNonObjectBodies) {
  for (const char* body : {"", "   \n\t "}) {
    auto e = parse(body);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->message, "empty body");
  }
  for (const char* body : {"42", "\"str\"", "null", "  true"}) {
    auto e = parse(body);
    ASSERT_TRUE(e) << body;
    EXPECT_NE(e->message.find("must be a JSON object"), std::string::npos) << body;
  }
  auto e = parse(R"([{"a":1}, [2]])");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "array element 1 is not a JSON object");
  EXPECT_EQ(e->position, 10u);
}

TEST_F(BodyParserTest, NdjsonErrorsReportLineNumbers) {
  auto e = parse("{\"a\":1}\n\n{\"b\":2}\n{\"c\" 3}\n");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->line);
  EXPECT_EQ(e->position, 4u);
  EXPECT_EQ(e->message.rfind("line 4: malformed JSON", 0), 0u) << e->message;
  EXPECT_NE(e->message.find("column 6"), std::string::npos) << e->message;
  e = parse("{\"a\":1}\n[1]\n");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "line 2: expected a JSON object");
  e = parse("{\"a\":1}\n{\"b\":\"\xc3\"}\n");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->position, 2u);
  EXPECT_NE(e->message.find("invalid UTF-8"), std::string::npos) << e->message;
}

std::string nested(int levels) {
  std::string s;
  for (int i = 0; i < levels; ++i) s += "{\"a\":";
  s += "[1]";
  for (int i = 0; i < levels; ++i) s += "}";
  return s;
}

TEST_F(BodyParserTest, NestingLimit) {
  EXPECT_FALSE(parse(nested(63)));  // 63 objects + 1 array = 64 levels
  auto e = parse(nested(64));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "malformed JSON: nested deeper than 64 levels");
  EXPECT_EQ(e->position, 64u * 5);
  e = parse(nested(1000));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->position, 64u * 5);
  options_.max_depth = 3;
  EXPECT_FALSE(parse(R"({"a":{"b":[1]}})"));
  EXPECT_TRUE(parse(R"({"a":{"b":[[1]]}})"));
  options_.max_depth = 64;
  EXPECT_FALSE(parse(nested(63))) << "the limit is reconfigured back";
}

TEST_F(BodyParserTest, MaxRecords) {
  options_.max_records = 2;
  EXPECT_FALSE(parse("[{},{}]"));
  auto e = parse("[{},{},{}]");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "too many records in one request (max 2)");
  EXPECT_EQ(e->position, 7u);
  e = parse("{}\n{}\n{}\n");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->position, 3u);
  EXPECT_TRUE(e->line);
}

TEST_F(BodyParserTest, BigIntegersOutsideTheSimdjsonRangeAreRejected) {
  auto e = parse(R"({"n":123456789012345678901234567890})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->position, 5u);
}

TEST_F(BodyParserTest, ParserIsReusableAndParsePaddedAvoidsCopies) {
  std::string body = R"([{"id":"1"},{"id":"2"}])";
  body.reserve(body.size() + kBodyPadding);
  for (int i = 0; i < 3; ++i) {
    ASSERT_FALSE(parser_.parse_padded(body, options_, batch_));
    ASSERT_EQ(batch_.records.size(), 2u);
    EXPECT_EQ(id(1), "2");
  }
  std::string big = "[";
  for (int i = 0; i < 20000; ++i) big += R"({"id":")" + std::to_string(i) + R"(","payload":"0123456789abcdef"},)";
  big += "{}]";
  ASSERT_FALSE(parse(big));
  EXPECT_EQ(batch_.records.size(), 20001u);
  EXPECT_EQ(id(19999), "19999");
  ASSERT_FALSE(parse(R"({"small":true})"));
  EXPECT_EQ(batch_.records.size(), 1u);
}

}  // namespace
}  // namespace touchpoint::webhook
