#include "tp_common/body_parser.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "tp_common/sha256.hpp"

namespace tp_common {
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

// The id of a record without one and without an idempotency header.
std::string body_id(std::string_view body, size_t index) {
  return tp_common::sha256_hex(body).substr(0, 32) + ":" + std::to_string(index);
}

TEST_F(BodyParserTest, ArrayOfObjects) {
  const std::string body = R"([{"id":"a"}, {"id":7}, {"messageId":"m"}, {}])";
  ASSERT_FALSE(parse(body));
  EXPECT_EQ(batch_.format, BodyFormat::json_array);
  ASSERT_EQ(batch_.records.size(), 4u);
  EXPECT_EQ(id(0), "a");
  EXPECT_EQ(id(1), "7");
  EXPECT_EQ(id(2), "m");
  EXPECT_EQ(id(3), body_id(body, 3));
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
  const std::string body =
      R"([{"data":{}}, {"type":"","ts":"2024-01-02T03:04:05+01:00","data":{"x":1}}, {"ts":null,"data":{}}])";
  ASSERT_FALSE(parse(body));
  ASSERT_EQ(batch_.records.size(), 3u);
  EXPECT_EQ(id(0), body_id(body, 0));
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

TEST_F(BodyParserTest, EnvelopeWithoutAKeyTakesTheKeyFieldOfItsData) {
  options_.key_field = "customer_id";
  ASSERT_FALSE(parse(R"([{"type":"profile","data":{"customer_id":"C-1","email":"a@b.c"}},
                         {"type":"profile","key":"K-9","data":{"customer_id":"C-2"}},
                         {"type":"profile","key":"","data":{"customer_id":"C-3"}},
                         {"type":"profile","key":null,"data":{"customer_id":4711}},
                         {"type":"consent","data":{"customer":"anna@example.de","channel":"email"}},
                         {"type":"event","data":{"customer_id":{"nested":1}}},
                         {"type":"event","data":{"customer_id":null}},
                         {"customer_id":"C-8","data":{"x":1}}])"));
  ASSERT_EQ(batch_.records.size(), 8u);
  EXPECT_EQ(key(0), "C-1") << "no key: data.customer_id";
  EXPECT_EQ(key(1), "K-9") << "the envelope's own key wins";
  EXPECT_EQ(key(2), "C-3") << "an empty key counts as none";
  EXPECT_EQ(key(3), "4711") << "a null key counts as none; integers become text";
  EXPECT_EQ(key(4), "") << "data without the field: no key";
  EXPECT_EQ(key(5), "") << "a value that is neither string nor integer gives no key";
  EXPECT_EQ(key(6), "");
  EXPECT_EQ(key(7), "") << "only data is looked at, not the envelope's own members";
  EXPECT_EQ(data(0), R"({"customer_id":"C-1","email":"a@b.c"})") << "data is unchanged";

  options_.key_field = "";
  ASSERT_FALSE(parse(R"({"type":"profile","data":{"customer_id":"C-1"}})"));
  EXPECT_EQ(key(0), "") << "without key_field envelopes only have their own key";
}

TEST_F(BodyParserTest, EnvelopeKeyFromDataIsCheckedAgainstTheHostsLimit) {
  options_.key_field = "customer_id";
  auto e = parse(R"({"data":{"customer_id":")" + std::string(TP_MAX_KEY_BYTES + 1, 'k') + R"("}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message,
            "record 0: the key (field 'data.customer_id') is 1025 bytes; the host accepts at most 1024 "
            "(TP_MAX_KEY_BYTES)");
  e = parse(R"({"key":")" + std::string(TP_MAX_KEY_BYTES + 1, 'k') + R"(","data":{"customer_id":"C-1"}})");
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("the key (field 'key')"), std::string::npos) << e->message;
}

TEST_F(BodyParserTest, NonStringIdIsIgnoredInFlatObjects) {
  ASSERT_FALSE(parse(R"({"id":{"nested":1},"messageId":"fallback"})"));
  EXPECT_EQ(id(0), "fallback");
  ASSERT_FALSE(parse(R"({"id":1.5})"));
  EXPECT_EQ(id(0), body_id(R"({"id":1.5})", 0));
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

// ------------------------------------------------ deterministic record ids

TEST_F(BodyParserTest, RecordsWithoutAnIdGetOneFromTheBodyHash) {
  const std::string body = "{\"a\":1}\n\n{\"id\":\"x\"}\n{\"a\":2}\n";
  ASSERT_FALSE(parse(body));
  ASSERT_EQ(batch_.records.size(), 3u);
  EXPECT_EQ(id(0), body_id(body, 0));
  EXPECT_EQ(id(1), "x");
  EXPECT_EQ(id(2), body_id(body, 2)) << "the index counts records, not lines";
  EXPECT_EQ(id(0).size(), 34u);
  const std::string first = std::string(id(0));
  ASSERT_FALSE(parse(body));
  EXPECT_EQ(id(0), first) << "the same body yields the same ids";
  ASSERT_FALSE(parse(body + " "));
  EXPECT_NE(id(0), first) << "another body yields other ids";
}

TEST_F(BodyParserTest, ExplicitIdsWinOverDerivedOnes) {
  options_.idempotency_key = "msg_1";
  options_.id_field = "uid";
  ASSERT_FALSE(parse(R"([{"id":"env","data":{}}, {"uid":"flat"}, {"messageId":"seg"}, {"id":"","data":{}},
                         {"uid":""}, {}])"));
  ASSERT_EQ(batch_.records.size(), 6u);
  EXPECT_EQ(id(0), "env");
  EXPECT_EQ(id(1), "flat");
  EXPECT_EQ(id(2), "seg");
  EXPECT_EQ(id(3), "msg_1:3") << "an empty id counts as none";
  EXPECT_EQ(id(4), "msg_1:4");
  EXPECT_EQ(id(5), "msg_1:5");
}

TEST_F(BodyParserTest, IdempotencyKeyIsHashedWhenTooLongOrNotPrintable) {
  const std::string long_key(250, 'k');  // "<key>:0" is 252 bytes, "<key>:12345" 256
  options_.idempotency_key = long_key;
  ASSERT_FALSE(parse("{}"));
  EXPECT_EQ(id(0), long_key + ":0");

  const std::string longer(256, 'k');  // "<key>:0" would be 258 bytes
  options_.idempotency_key = longer;
  ASSERT_FALSE(parse("{}"));
  EXPECT_EQ(id(0), tp_common::sha256_hex(longer) + ":0");

  for (std::string key :
       {std::string("caf\xc3\xa9"), std::string("a\tb"), std::string("nul\0x", 5), std::string("del\x7f")}) {
    options_.idempotency_key = key;
    ASSERT_FALSE(parse("[{},{}]"));
    EXPECT_EQ(id(1), tp_common::sha256_hex(key) + ":1");
  }
  options_.idempotency_key = "with space and :colon";
  ASSERT_FALSE(parse("{}"));
  EXPECT_EQ(id(0), "with space and :colon:0");
}

// ------------------------------------------------------------ host limits

TEST_F(BodyParserTest, UnitBytesAreCountedLikeTheHost) {
  options_.idempotency_key = "k";
  ASSERT_FALSE(parse(R"([{"id":"ab","type":"t1","key":"kk","data":{"x":1},"meta":{"m":2}}, {"y":2}])"));
  // record 0: id 2 + type 2 + key 2 + data 7 + meta 7; record 1: "k:1" 3 + "event" 5 + data 7.
  EXPECT_EQ(batch_.unit_bytes, (2u + 2 + 2 + 7 + 7) + (3u + 5 + 7) + 2 * TP_UNIT_RECORD_OVERHEAD);
}

TEST_F(BodyParserTest, FieldsAtTheHostsLimitsAreAccepted) {
  const std::string body = R"({"id":")" + std::string(TP_MAX_ID_BYTES, 'i') + R"(","type":")" +
                           std::string(TP_MAX_TYPE_BYTES, 't') + R"(","key":")" + std::string(TP_MAX_KEY_BYTES, 'k') +
                           R"(","data":{}})";
  ASSERT_FALSE(parse(body));
  EXPECT_EQ(id(0).size(), TP_MAX_ID_BYTES);
  EXPECT_EQ(type(0).size(), TP_MAX_TYPE_BYTES);
  EXPECT_EQ(key(0).size(), TP_MAX_KEY_BYTES);
}

TEST_F(BodyParserTest, FieldsOverTheHostsLimitsAre400NamingRecordAndField) {
  auto e = parse(R"([{"id":"ok"}, {"id":")" + std::string(TP_MAX_ID_BYTES + 1, 'i') + R"("}])");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "record 1: the id (field 'id') is 257 bytes; the host accepts at most 256 (TP_MAX_ID_BYTES)");
  EXPECT_EQ(e->position, 14u);
  EXPECT_FALSE(e->too_large);

  options_.id_field = "uid";
  options_.key_field = "email";
  e = parse(R"({"uid":"u","email":")" + std::string(TP_MAX_KEY_BYTES + 1, 'k') + R"("})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message,
            "record 0: the key (field 'email') is 1025 bytes; the host accepts at most 1024 (TP_MAX_KEY_BYTES)");
  e = parse(R"({"messageId":")" + std::string(300, 'm') + R"("})");
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("the id (field 'messageId') is 300 bytes"), std::string::npos) << e->message;

  e = parse(R"({"data":{},"type":")" + std::string(TP_MAX_TYPE_BYTES + 1, 't') + R"("})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "record 0: 'type' is 65 bytes; the host accepts at most 64 (TP_MAX_TYPE_BYTES)");
  for (const char* bad : {"Profile", "a b", "caf\\u00e9", "caf\xc3\xa9", "x/y", "a\\u0000", "\\u0041"}) {
    e = parse("\n{\"data\":{}}\n{\"data\":{},\"type\":\"" + std::string(bad) + "\"}\n");
    ASSERT_TRUE(e) << bad;
    EXPECT_EQ(e->message, "line 3: record 1: 'type' must use only a-z, 0-9, '_', '.', '-'") << bad;
    EXPECT_EQ(e->position, 3u);
    EXPECT_TRUE(e->line);
    EXPECT_FALSE(e->too_large);
  }
}

TEST_F(BodyParserTest, RecordOverTheRecordLimitIs413NamingTheRecord) {
  options_.max_record_bytes = 100;
  const std::string fits = R"({"s":")" + std::string(92, 'x') + R"("})";  // exactly 100 bytes
  ASSERT_EQ(fits.size(), 100u);
  EXPECT_FALSE(parse("[" + fits + "]"));
  auto e = parse("[" + fits + R"(,{"s":")" + std::string(93, 'x') + R"("}])");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->too_large);
  EXPECT_EQ(e->message, "record 1: data + meta is 101 bytes; the host accepts at most 100 (TP_MAX_RECORD_BYTES)");
  EXPECT_EQ(e->position, 102u);
  // data and meta count together.
  e = parse(R"({"data":{"s":")" + std::string(50, 'x') + R"("},"meta":{"s":")" + std::string(50, 'x') + R"("}})");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->too_large);
  EXPECT_NE(e->message.find("record 0: data + meta is 116 bytes"), std::string::npos) << e->message;
}

TEST_F(BodyParserTest, UnitOverTheUnitLimitIs413) {
  options_.idempotency_key = "k";
  // Each {} costs "k:N" (3) + "event" (5) + "{}" (2) + the per-record overhead.
  const size_t per_record = 3 + 5 + 2 + TP_UNIT_RECORD_OVERHEAD;
  options_.max_unit_bytes = 3 * per_record;
  EXPECT_FALSE(parse("[{},{},{}]"));
  EXPECT_EQ(batch_.unit_bytes, 3 * per_record);
  auto e = parse("[{},{},{},{}]");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->too_large);
  EXPECT_NE(e->message.find("TP_MAX_UNIT_BYTES"), std::string::npos) << e->message;
  EXPECT_NE(e->message.find("at record 3"), std::string::npos) << e->message;
  EXPECT_NE(e->message.find("split it"), std::string::npos) << e->message;
}

TEST_F(BodyParserTest, ReSerializationCanGrowADocumentPastTheLimits) {
  // simdjson writes 1e5 as 100000.0: a record's data can be longer than its
  // text in the body, so the limit is checked on what is emitted.
  options_.idempotency_key = "k";
  const std::string object = R"({"n":[1e5,1e5]})";
  ASSERT_FALSE(parse(object));
  ASSERT_GT(data(0).size(), object.size()) << data(0);
  std::string body = "[";
  for (int i = 0; i < 8; ++i) body += std::string(i ? "," : "") + object;
  body += "]";
  options_.max_unit_bytes = 8 * (3 + 5 + object.size() + TP_UNIT_RECORD_OVERHEAD);  // as long as in the body
  auto e = parse(body);
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->too_large) << e->message;
}

TEST(RecordType, Charset) {
  EXPECT_TRUE(is_valid_record_type("event"));
  EXPECT_TRUE(is_valid_record_type("a.b_c-9"));
  EXPECT_FALSE(is_valid_record_type(""));
  EXPECT_FALSE(is_valid_record_type("Event"));
  EXPECT_FALSE(is_valid_record_type(std::string(65, 'a')));
  EXPECT_TRUE(is_valid_record_type(std::string(64, 'a')));
}

TEST_F(BodyParserTest, AStreamSkipsBadLinesAndReportsThemByLine) {
  const std::string lines =
      "{\"id\":\"a\"}\n{\"id\":\n\n[1]\n{\"id\":\"" + std::string(300, 'x') + "\"}\n{\"id\":\"b\",\"v\":2}\n";
  simdjson::padded_string padded(lines);
  std::vector<std::pair<size_t, std::string>> bad;
  parser_.parse_stream_padded(std::string_view(padded.data(), padded.size()), options_, batch_,
                              [&](size_t line, std::string_view text, std::string_view reason) {
                                bad.emplace_back(line, std::string(reason));
                                EXPECT_FALSE(text.empty());
                              });
  ASSERT_EQ(batch_.records.size(), 2u);
  EXPECT_EQ(id(0), "a");
  EXPECT_EQ(id(1), "b");
  EXPECT_EQ(data(1), R"({"id":"b","v":2})");
  ASSERT_EQ(bad.size(), 3u);
  EXPECT_EQ(bad[0].first, 2u);
  EXPECT_NE(bad[0].second.find("malformed JSON"), std::string::npos) << bad[0].second;
  EXPECT_EQ(bad[1].first, 4u) << "the blank line 3 is counted, not reported";
  EXPECT_NE(bad[1].second.find("expected a JSON object"), std::string::npos);
  EXPECT_EQ(bad[2].first, 5u);
  EXPECT_NE(bad[2].second.find("TP_MAX_ID_BYTES"), std::string::npos) << bad[2].second;
  size_t expected_unit = 0;
  for (const ParsedRecord& r : batch_.records)
    expected_unit +=
        r.id.length + r.type.length + r.key.length + r.data.length + r.meta.length + TP_UNIT_RECORD_OVERHEAD;
  EXPECT_EQ(batch_.unit_bytes, expected_unit) << "a skipped record does not count against the unit";
}

}  // namespace
}  // namespace tp_common
