#include "record_builder.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <string>
#include <vector>

#include "csv_config.hpp"
#include "json_util.hpp"

namespace touchpoint::csv {
namespace {

using Strings = std::vector<std::string>;

std::string build(const Strings& names, const Strings& values, const Config& config, Strings* warnings = nullptr) {
  Strings w;
  RecordBuilder b(names, config, w);
  if (warnings != nullptr) *warnings = w;
  std::string out;
  b.build(values, out);
  return out;
}

bool valid_json(const std::string& s) {
  simdjson::dom::parser p;
  simdjson::dom::element e;
  return p.parse(s).get(e) == simdjson::SUCCESS;
}

TEST(JsonString, EscapesEverythingNeeded) {
  std::string all;
  for (int c = 0; c < 0x20; ++c) all.push_back(static_cast<char>(c));
  all += "\"\\/ M\xC3\xBCller \x7F";
  std::string json = json_string(all);
  EXPECT_EQ(json,
            "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f"
            "\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d"
            "\\u001e\\u001f\\\"\\\\/ M\xC3\xBCller \x7F\"");
  // simdjson reads back exactly the original string.
  simdjson::dom::parser p;
  std::string_view back;
  ASSERT_EQ(p.parse(json).get_string().get(back), simdjson::SUCCESS);
  EXPECT_EQ(back, all);
}

TEST(RecordBuilder, UnmappedColumnsKeepHeaderNames) {
  Config c;
  EXPECT_EQ(build({"Name", "E-Mail", "Tel."}, {"Anna", "a@x.de", "030 1"}, c),
            R"({"Name":"Anna","E-Mail":"a@x.de","Tel.":"030 1"})");
}

TEST(RecordBuilder, EmptyValuesAreOmitted) {
  Config c;
  EXPECT_EQ(build({"a", "b", "c"}, {"", "2", ""}, c), R"({"b":"2"})");
  EXPECT_EQ(build({"a"}, {""}, c), "{}");
}

TEST(RecordBuilder, DottedMappingBuildsNestedObjects) {
  Config c;
  c.columns = {{"E-Mail", {"email"}},
               {"Stadt", {"address", "city"}},
               {"PLZ", {"address", "zip"}},
               {"Land", {"address", "country", "code"}}};
  std::string json = build({"Name", "E-Mail", "Stadt", "PLZ", "Land"}, {"Anna", "a@x.de", "Köln", "50667", "DE"}, c);
  EXPECT_EQ(json,
            R"({"Name":"Anna","email":"a@x.de","address":{"city":"Köln","zip":"50667","country":{"code":"DE"}}})");
  EXPECT_TRUE(valid_json(json));
  // An object whose values are all empty disappears.
  EXPECT_EQ(build({"Name", "E-Mail", "Stadt", "PLZ", "Land"}, {"Anna", "", "", "", ""}, c), R"({"Name":"Anna"})");
  EXPECT_EQ(build({"Name", "E-Mail", "Stadt", "PLZ", "Land"}, {"", "", "", "", "DE"}, c),
            R"({"address":{"country":{"code":"DE"}}})");
}

TEST(RecordBuilder, OnlyMapped) {
  Config c;
  c.columns = {{"E-Mail", {"email"}}};
  c.only_mapped = true;
  EXPECT_EQ(build({"Name", "E-Mail"}, {"Anna", "a@x.de"}, c), R"({"email":"a@x.de"})");
}

TEST(RecordBuilder, ClashingUnmappedColumnIsDroppedWithWarning) {
  Config c;
  c.columns = {{"E-Mail", {"email"}}, {"Missing", {"x"}}};
  Strings warnings;
  EXPECT_EQ(build({"email", "E-Mail"}, {"old@x.de", "new@x.de"}, c, &warnings), R"({"email":"new@x.de"})");
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("'Missing'"), std::string::npos);
  EXPECT_NE(warnings[1].find("'email'"), std::string::npos);
}

TEST(RecordBuilder, KeyAndIdIndexes) {
  Config c;
  c.key_column = "Mail";
  c.id_column = "Nr";
  Strings w;
  RecordBuilder b({"Nr", "Name", "Mail"}, c, w);
  EXPECT_EQ(b.id_index(), 0);
  EXPECT_EQ(b.key_index(), 2);
  c.key_column = "nope";
  RecordBuilder b2({"Nr"}, c, w);
  EXPECT_EQ(b2.key_index(), -1);
}

TEST(RecordBuilder, OutputIsValidJsonForNastyValues) {
  Config c;
  c.columns = {{"b", {"x", "y"}}};
  std::string nasty = "quote\" back\\slash\nnew\tline\x01\x1f end";
  std::string json = build({"a\"key", "b"}, {nasty, nasty}, c);
  ASSERT_TRUE(valid_json(json));
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(json);
  EXPECT_EQ(std::string_view(doc["a\"key"]), nasty);
  EXPECT_EQ(std::string_view(doc["x"]["y"]), nasty);
}

TEST(Header, Normalize) {
  EXPECT_EQ(normalize_header({"a", "", "a", "a_2", "b", ""}), (Strings{"a", "2", "a_3", "a_2", "b", "6"}));
  EXPECT_EQ(normalize_header({"x", "x", "x_3", "x", "x"}), (Strings{"x", "x_2", "x_3", "x_4", "x_5"}));
}

TEST(Header, HundredThousandEqualNamesInBoundedTime) {
  const auto start = std::chrono::steady_clock::now();
  Strings names = normalize_header(Strings(100000, "Name"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ASSERT_EQ(names.size(), 100000u);
  EXPECT_EQ(names[0], "Name");
  EXPECT_EQ(names[1], "Name_2");
  EXPECT_EQ(names[99999], "Name_100000");
}

TEST(Ids, DeterministicIdFormat) {
  // FNV-1a-64 of "" is the offset basis.
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(deterministic_id("", 1, 0), "csv:cbf29ce484222325:1:0000000000000000");
  // FNV-1a-64("a") = af63dc4c8601ec8c
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(deterministic_id("a", 7, 0xabcull), "csv:af63dc4c8601ec8c:7:0000000000000abc");
  // Chaining hashes the concatenation.
  EXPECT_EQ(fnv1a64("cd", fnv1a64("ab")), fnv1a64("abcd"));
}

TEST(Ids, RowHashCoversHeaderAndRowBytes) {
  EXPECT_EQ(row_hash("id,name", "1,Anna"), fnv1a64("id,name\n1,Anna"));
  EXPECT_NE(row_hash("id,name", "1,Anna"), row_hash("id,name", "1,Anne"));  // a correction
  EXPECT_NE(row_hash("id,name", "1,Anna"), row_hash("id,Name", "1,Anna"));  // another header
  EXPECT_EQ(row_hash("", "1,Anna"), fnv1a64("\n1,Anna"));                   // no header row
}

TEST(RecordBuilder, BuildStopsAtTheLimit) {
  Config c;
  Strings w;
  RecordBuilder b({"a", "b"}, c, w);
  std::string out;
  EXPECT_TRUE(b.build({"12345", "x"}, out, 21));  // {"a":"12345","b":"x"} is 21 bytes
  EXPECT_EQ(out, R"({"a":"12345","b":"x"})");
  out.clear();
  EXPECT_FALSE(b.build({"12345", "x"}, out, 20));
  out.clear();
  // Escaping counts: 4 control bytes become 24.
  EXPECT_FALSE(b.build({std::string(4, '\x01'), ""}, out, 30));
  out.clear();
  EXPECT_TRUE(b.build({std::string(4, '\x01'), ""}, out, 32));
  EXPECT_EQ(out.size(), 32u);
  // An object that stays empty is taken back: it does not count against the limit.
  Config nested;
  nested.columns.push_back({"a", split_path("a_long_object_name.y")});
  RecordBuilder nb({"a", "b"}, nested, w);
  out.clear();
  EXPECT_TRUE(nb.build({"", "1"}, out, 9));
  EXPECT_EQ(out, R"({"b":"1"})");
  out.clear();
  EXPECT_FALSE(nb.build({"", "1"}, out, 8));
  EXPECT_EQ(json_string_size(std::string("a\"\\\n\x01\x7F\xC3\xBC", 8)),
            json_string(std::string("a\"\\\n\x01\x7F\xC3\xBC", 8)).size());
}

}  // namespace
}  // namespace touchpoint::csv
