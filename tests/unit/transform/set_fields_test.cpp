#include <gtest/gtest.h>

#include "test_util.hpp"

namespace touchpoint::core::test {
namespace {

TEST(Set, AlwaysOverwritesWithTypedValues) {
  Step s = make(R"(set: { country: DE, "consent.email": true, score: 1.5, zip: "01067", n: null, tags: [a, 2] })");
  Record r = record(R"({"country": "AT", "consent": {"sms": false}})");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data, Json::parse(R"({"country": "DE", "consent": {"sms": false, "email": true}, "score": 1.5,
                                    "zip": "01067", "n": null, "tags": ["a", 2]})"));
}

TEST(Set, QuotedScalarsStayStrings) {
  Step s = make(R"(set: { a: "true", b: '42', c: 42 })");
  Record r = record("{}");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data, Json::parse(R"({"a": "true", "b": "42", "c": 42})"));
}

TEST(Set, EnvelopeTypeAndKey) {
  Step s = make(R"(set: { "@type": profile, "@key": 0042 })");
  Record r = record("{}");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.type, "profile");
  EXPECT_EQ(r.key, "0042");  // envelope values are taken as written
  EXPECT_EQ(r.data, Json::object());
}

TEST(Set, RejectsWhenAParentIsNotAnObject) {
  Step s = make(R"(set: { "consent.email": true })");
  Record r = record(R"({"consent": true})");
  EXPECT_EQ(apply(s, r), "reject: cannot set 'consent.email': 'consent' is not an object");
  EXPECT_EQ(r.data, Json::parse(R"({"consent": true})"));
}

TEST(Default, OnlyFillsMissingOrNull) {
  Step s = make("default: { channel: web, country: DE, address.country: DE, opt_in: false }");
  Record r = record(R"({"channel": "app", "country": null, "address": {"city": "Graz"}})");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data, Json::parse(R"({"channel": "app", "country": "DE", "opt_in": false,
                                    "address": {"city": "Graz", "country": "DE"}})"));
  Record keep_false = record(R"({"opt_in": true, "channel": ""})");
  EXPECT_EQ(apply(s, keep_false), "keep");
  EXPECT_EQ(keep_false.data["opt_in"], true);
  EXPECT_EQ(keep_false.data["channel"], "");  // empty strings are values, not missing
}

TEST(Default, EnvelopeOnlyWhenEmpty) {
  Step s = make(R"(default: { "@key": anonymous })");
  Record empty = record("{}");
  EXPECT_EQ(apply(s, empty), "keep");
  EXPECT_EQ(empty.key, "anonymous");
  Record set = record("{}");
  set.key = "cust-7";
  EXPECT_EQ(apply(s, set), "keep");
  EXPECT_EQ(set.key, "cust-7");
}

TEST(Default, RejectsWhenAParentIsNotAnObject) {
  Step s = make("default: { address.country: DE }");
  Record r = record(R"({"address": ["Hauptstraße 1"]})");
  EXPECT_EQ(apply(s, r), "reject: cannot set 'address.country': 'address' is not an object");
}

TEST(Set, ConfigErrors) {
  EXPECT_EQ(config_error("set: [a]"), "p.yaml:1:6: options for set must be a map");
  EXPECT_EQ(config_error("default: x"), "p.yaml:1:10: options for default must be a map");
  EXPECT_EQ(config_error("set: {}"), "p.yaml:1:6: empty field map for set");
  EXPECT_EQ(config_error("default: {}"), "p.yaml:1:10: empty field map for default");
  EXPECT_EQ(config_error("set: { \"@type\": [a] }"), "p.yaml:1:17: value for '@type' must be a string");
  EXPECT_EQ(config_error("set: { \"@key\": null }"), "p.yaml:1:8: value for '@key' must be a string");
  EXPECT_EQ(config_error("set: { \"@ts\": 1 }"), "p.yaml:1:8: unknown envelope field '@ts' (known: @id, @key, @type)");
  EXPECT_EQ(config_error("set: { score: .inf }"), "p.yaml:1:15: non-finite number '.inf' has no JSON representation");
  EXPECT_EQ(config_error("set: { a.: 1 }"), "p.yaml:1:8: invalid field path 'a.': empty segment");
}

}  // namespace
}  // namespace touchpoint::core::test
