#include <gtest/gtest.h>

#include "test_util.hpp"

namespace touchpoint::core::test {
namespace {

TEST(Rename, MovesFieldsInOrder) {
  Step s = make("rename: { mail: email, tel: phone, address.zip: postal_code }");
  Record r = record(R"({"mail": "a@b.de", "tel": "0170", "address": {"zip": "10115", "city": "Berlin"}})");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data, Json::parse(R"({"email": "a@b.de", "phone": "0170", "postal_code": "10115",
                                    "address": {"city": "Berlin"}})"));
}

TEST(Rename, MissingSourceIsSkippedAndTargetIsOverwritten) {
  Step s = make("rename: { mail: email, tel: phone }");
  Record r = record(R"({"mail": "new@b.de", "email": "old@b.de"})");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data, Json::parse(R"({"email": "new@b.de"})"));
}

TEST(Rename, CreatesNestedTargetsAndFlattens) {
  Step s = make("rename: { city: address.city, name.full: name }");
  Record r = record(R"({"city": "München", "name": {"full": "Erika Mustermann", "first": "Erika"}})");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data, Json::parse(R"({"address": {"city": "München"}, "name": "Erika Mustermann"})"));
}

TEST(Rename, MovesNullsAndObjectsToo) {
  Step s = make("rename: { a: b, c: d }");
  Record r = record(R"({"a": null, "c": {"x": [1, 2]}})");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data, Json::parse(R"({"b": null, "d": {"x": [1, 2]}})"));
}

TEST(Rename, BlockedTargetRejectsAndLeavesRecordUnchanged) {
  Step s = make("rename: { city: address.city }");
  Record r = record(R"({"city": "Wien", "address": "Ringstraße 1"})");
  EXPECT_EQ(apply(s, r), "reject: cannot rename 'city' to 'address.city': 'address' is not an object");
  EXPECT_EQ(r.data, Json::parse(R"({"city": "Wien", "address": "Ringstraße 1"})"));
}

TEST(Rename, IntoEnvelopeKeyAndType) {
  Step s = make("rename: { customer_id: \"@key\", kind: \"@type\" }");
  Record r = record(R"({"customer_id": 4711, "kind": "profile", "x": 1})");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.key, "4711");
  EXPECT_EQ(r.type, "profile");
  EXPECT_EQ(r.data, Json::parse(R"({"x": 1})"));

  Record bad = record(R"({"customer_id": {"a": 1}})");
  EXPECT_EQ(apply(s, bad), "reject: cannot rename 'customer_id' to '@key': value is object, not a string or number");
  EXPECT_EQ(bad.key, "");
  EXPECT_EQ(bad.data, Json::parse(R"({"customer_id": {"a": 1}})"));
}

TEST(Rename, ConfigErrors) {
  EXPECT_EQ(config_error("rename: [a, b]"), "p.yaml:1:9: options for rename must be a map");
  EXPECT_EQ(config_error("rename:"), "p.yaml:1:1: options for rename must be a map");
  EXPECT_EQ(config_error("rename: {}"), "p.yaml:1:9: empty field map for rename");
  EXPECT_EQ(config_error("rename: { a..b: c }"), "p.yaml:1:11: invalid field path 'a..b': empty segment");
  EXPECT_EQ(config_error("rename: { a: [b] }"), "p.yaml:1:14: expected a string for a field path");
  EXPECT_EQ(config_error("rename: { a: \"@source\" }"),
            "p.yaml:1:14: unknown envelope field '@source' (known: @id, @key, @type)");
  EXPECT_EQ(config_error("rename: { \"@key\": a }"), "p.yaml:1:11: rename cannot move envelope field '@key'; use set");
  EXPECT_EQ(config_error("rename: { a: a.b }"),
            "p.yaml:1:14: cannot rename 'a' to 'a.b': the target lies inside the source");
  EXPECT_EQ(config_error("rename: { a: a }"),
            "p.yaml:1:14: cannot rename 'a' to 'a': the target lies inside the source");
}

}  // namespace
}  // namespace touchpoint::core::test
