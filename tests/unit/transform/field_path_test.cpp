#include "transform/field_path.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "test_util.hpp"

namespace touchpoint::core::transform {
namespace {

std::string parse_error(const std::string& text) {
  try {
    FieldPath::parse(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(FieldPath, SplitsDottedPathsOnce) {
  FieldPath p = FieldPath::parse("address.city");
  EXPECT_EQ(p.text(), "address.city");
  EXPECT_FALSE(p.is_envelope());
  EXPECT_EQ(p.segments(), (std::vector<std::string>{"address", "city"}));
  EXPECT_EQ(p.prefix(1), "address");
}

TEST(FieldPath, RejectsMalformedPaths) {
  EXPECT_EQ(parse_error(""), "invalid field path '': empty");
  EXPECT_EQ(parse_error("a..b"), "invalid field path 'a..b': empty segment");
  EXPECT_EQ(parse_error(".a"), "invalid field path '.a': empty segment");
  EXPECT_EQ(parse_error("a."), "invalid field path 'a.': empty segment");
  EXPECT_EQ(parse_error("@source"), "unknown envelope field '@source' (known: @id, @key, @type)");
}

TEST(FieldPath, FindsNestedValues) {
  Json data = Json::parse(R"({"address": {"city": "Köln", "zip": "50667"}, "name": "x"})");
  EXPECT_EQ(*FieldPath::parse("address.city").find(data), "Köln");
  EXPECT_EQ(FieldPath::parse("address.street").find(data), nullptr);
  EXPECT_EQ(FieldPath::parse("name.first").find(data), nullptr);  // "name" is not an object
  EXPECT_EQ(FieldPath::parse("missing.deep").find(data), nullptr);
}

TEST(FieldPath, MakeCreatesParentsAndReportsBlockers) {
  Json data = Json::parse(R"({"a": {"b": 1}, "n": null, "s": "text"})");
  *FieldPath::parse("a.c.d").make(data) = 2;
  *FieldPath::parse("n.x").make(data) = 3;  // a null parent becomes an object
  EXPECT_EQ(data, Json::parse(R"({"a": {"b": 1, "c": {"d": 2}}, "n": {"x": 3}, "s": "text"})"));
  std::size_t blocked = 99;
  EXPECT_EQ(FieldPath::parse("s.x.y").make(data, &blocked), nullptr);
  EXPECT_EQ(blocked, 1u);
  EXPECT_EQ(FieldPath::parse("a.b.c").make(data, &blocked), nullptr);
  EXPECT_EQ(blocked, 2u);
  EXPECT_EQ(data, Json::parse(R"({"a": {"b": 1, "c": {"d": 2}}, "n": {"x": 3}, "s": "text"})"));
}

TEST(FieldPath, EraseRemovesOnlyTheLeaf) {
  Json data = Json::parse(R"({"internal": {"note": "n", "other": 1}})");
  EXPECT_TRUE(FieldPath::parse("internal.note").erase(data));
  EXPECT_FALSE(FieldPath::parse("internal.note").erase(data));
  EXPECT_FALSE(FieldPath::parse("internal.other.x").erase(data));
  EXPECT_EQ(data, Json::parse(R"({"internal": {"other": 1}})"));
}

TEST(FieldPath, EnvelopeFields) {
  Record r = test::record("{}");
  r.key = "cust-1";
  FieldPath key = FieldPath::parse("@key");
  FieldPath type = FieldPath::parse("@type");
  FieldPath id = FieldPath::parse("@id");
  EXPECT_TRUE(key.is_envelope());
  EXPECT_EQ(&key.envelope_field(r), &r.key);
  EXPECT_EQ(&type.envelope_field(r), &r.type);
  EXPECT_EQ(&id.envelope_field(r), &r.id);
  EXPECT_EQ(*key.view(r).text, "cust-1");
  r.key.clear();
  EXPECT_TRUE(key.view(r).missing());  // empty counts as missing
}

TEST(FieldPath, Covers) {
  EXPECT_TRUE(FieldPath::parse("a").covers(FieldPath::parse("a.b")));
  EXPECT_TRUE(FieldPath::parse("a.b").covers(FieldPath::parse("a.b")));
  EXPECT_FALSE(FieldPath::parse("a.b").covers(FieldPath::parse("a")));
  EXPECT_FALSE(FieldPath::parse("ab").covers(FieldPath::parse("a.b")));
  EXPECT_FALSE(FieldPath::parse("a").covers(FieldPath::parse("@key")));
}

}  // namespace
}  // namespace touchpoint::core::transform
