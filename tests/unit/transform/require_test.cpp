#include <gtest/gtest.h>

#include "test_util.hpp"

namespace touchpoint::core::test {
namespace {

const char* kRules =
    R"(require: { fields: { email: { type: string, regex: ".+@.+" }, age: { type: number }, status: { enum: [active, inactive] } } })";

TEST(Require, KeepsValidRecordsUnchanged) {
  Step s = make(kRules);
  Record r = record(R"({"email": "a@b.de", "age": 42, "status": "active", "x": [1]})");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data, Json::parse(R"({"email": "a@b.de", "age": 42, "status": "active", "x": [1]})"));
}

TEST(Require, RejectionReasons) {
  Step s = make(kRules);
  auto check = [&](const std::string& data) {
    Record r = record(data);
    return apply(s, r);
  };
  EXPECT_EQ(check(R"({"age": 42, "status": "active"})"), "reject: missing required field 'email'");
  EXPECT_EQ(check(R"({"email": null, "age": 42, "status": "active"})"), "reject: required field 'email' is null");
  EXPECT_EQ(check(R"({"email": 7, "age": 42, "status": "active"})"),
            "reject: field 'email' must be a string (got number)");
  EXPECT_EQ(check(R"({"email": "nope", "age": 42, "status": "active"})"),
            "reject: field 'email' does not match regex '.+@.+'");
  EXPECT_EQ(check(R"({"email": "a@b.de", "age": "42", "status": "active"})"),
            "reject: field 'age' must be a number (got string)");
  EXPECT_EQ(check(R"({"email": "a@b.de", "age": 42, "status": "deleted"})"),
            "reject: field 'status' is not one of: active, inactive");
  EXPECT_EQ(check(R"({"email": "a@b.de", "age": 42})"), "reject: missing required field 'status'");
}

TEST(Require, Types) {
  Step s = make(
      "require: { fields: { s: { type: string }, n: { type: number }, i: { type: integer }, b: { type: boolean }, "
      "o: { type: object }, a: { type: array } } }");
  Record ok = record(R"({"s": "", "n": 1.5, "i": 3.0, "b": false, "o": {}, "a": []})");
  EXPECT_EQ(apply(s, ok), "keep");
  Record frac = record(R"({"s": "", "n": 1, "i": 3.5, "b": false, "o": {}, "a": []})");
  EXPECT_EQ(apply(s, frac), "reject: field 'i' must be an integer (got fractional number)");
  Record big = record(R"({"s": "", "n": 1, "i": 18446744073709551615, "b": true, "o": {}, "a": []})");
  EXPECT_EQ(apply(s, big), "keep");
  Record boolean = record(R"({"s": "", "n": 1, "i": 1, "b": "true", "o": {}, "a": []})");
  EXPECT_EQ(apply(s, boolean), "reject: field 'b' must be a boolean (got string)");
  Record object = record(R"({"s": "", "n": 1, "i": 1, "b": true, "o": [], "a": []})");
  EXPECT_EQ(apply(s, object), "reject: field 'o' must be an object (got array)");
  Record array = record(R"({"s": "", "n": 1, "i": 1, "b": true, "o": {}, "a": {}})");
  EXPECT_EQ(apply(s, array), "reject: field 'a' must be an array (got object)");
  Record number = record(R"({"s": "", "n": true, "i": 1, "b": true, "o": {}, "a": []})");
  EXPECT_EQ(apply(s, number), "reject: field 'n' must be a number (got boolean)");
}

TEST(Require, RegexUsesSearchSemantics) {
  Step partial = make(R"(require: { fields: { zip: { regex: "[0-9]{5}" } } })");
  Step anchored = make(R"(require: { fields: { zip: { regex: "^[0-9]{5}$" } } })");
  Record r = record(R"({"zip": "D-10115"})");
  EXPECT_EQ(apply(partial, r), "keep");
  EXPECT_EQ(apply(anchored, r), "reject: field 'zip' does not match regex '^[0-9]{5}$'");
  Record number = record(R"({"zip": 10115})");
  EXPECT_EQ(apply(anchored, number), "reject: field 'zip' must be a string to match regex '^[0-9]{5}$' (got number)");
}

TEST(Require, EnumIsTyped) {
  Step s = make(R"(require: { fields: { level: { enum: [1, 2, "3", true] } } })");
  auto check = [&](const std::string& data) {
    Record r = record(data);
    return apply(s, r);
  };
  EXPECT_EQ(check(R"({"level": 1})"), "keep");
  EXPECT_EQ(check(R"({"level": 2.0})"), "keep");
  EXPECT_EQ(check(R"({"level": "3"})"), "keep");
  EXPECT_EQ(check(R"({"level": true})"), "keep");
  EXPECT_EQ(check(R"({"level": "1"})"), "reject: field 'level' is not one of: 1, 2, 3, true");
  EXPECT_EQ(check(R"({"level": 3})"), "reject: field 'level' is not one of: 1, 2, 3, true");
}

TEST(Require, ListFormAndNestedAndEnvelope) {
  Step s = make(R"(require: { fields: [email, address.city, "@key"] })");
  auto check = [&](const std::string& data, const std::string& key) {
    Record r = record(data);
    r.key = key;
    return apply(s, r);
  };
  EXPECT_EQ(check(R"({"email": "", "address": {"city": "Bern"}})", "k1"), "keep");
  EXPECT_EQ(check(R"({"email": "", "address": {"zip": "3011"}})", "k1"),
            "reject: missing required field 'address.city'");
  EXPECT_EQ(check(R"({"email": "", "address": {"city": "Bern"}})", ""), "reject: missing required field '@key'");
}

TEST(Require, EnvelopeRules) {
  Step s = make(R"(require: { fields: { "@type": { enum: [profile, event] }, "@key": { regex: "^cust-" } } })");
  Record r = record("{}");
  r.type = "profile";
  r.key = "cust-1";
  EXPECT_EQ(apply(s, r), "keep");
  r.type = "message";
  EXPECT_EQ(apply(s, r), "reject: field '@type' is not one of: profile, event");
  r.type = "event";
  r.key = "lead-1";
  EXPECT_EQ(apply(s, r), "reject: field '@key' does not match regex '^cust-'");
}

TEST(Require, ConfigErrors) {
  EXPECT_EQ(config_error("require: { field: [a] }"), "p.yaml:1:12: unknown option 'field' for require");
  EXPECT_EQ(config_error("require: {}"), "p.yaml:1:10: missing required option 'fields' for require");
  EXPECT_EQ(config_error("require: { fields: [] }"), "p.yaml:1:20: empty field list for require 'fields'");
  EXPECT_EQ(config_error("require: { fields: {} }"), "p.yaml:1:20: empty field list for require 'fields'");
  EXPECT_EQ(config_error("require: { fields: email }"),
            "p.yaml:1:20: 'fields' for require must be a map of field rules or a list of field paths");
  EXPECT_EQ(config_error("require: { fields: { email: { typ: string } } }"),
            "p.yaml:1:31: unknown option 'typ' for require field 'email'");
  EXPECT_EQ(config_error("require: { fields: { email: string } }"),
            "p.yaml:1:29: options for require field 'email' must be a map");
  EXPECT_EQ(config_error("require: { fields: { age: { type: int } } }"),
            "p.yaml:1:35: invalid value 'int' for 'type' (expected one of: string, number, integer, boolean, object, "
            "array)");
  EXPECT_EQ(config_error(R"(require: { fields: { email: { regex: "(" } } })"),
            "p.yaml:1:38: invalid regex '(': a '(' is never closed at '('");
  EXPECT_EQ(config_error(R"(require: { fields: { email: { regex: [a] } } })"),
            "p.yaml:1:38: expected a string for a regex");
  EXPECT_EQ(config_error("require: { fields: { s: { enum: [] } } }"),
            "p.yaml:1:33: 'enum' for require field 's' must be a non-empty list");
  EXPECT_EQ(config_error("require: { fields: { s: { enum: a } } }"),
            "p.yaml:1:33: 'enum' for require field 's' must be a non-empty list");
  EXPECT_EQ(config_error("require: { fields: { s: { enum: [a, [b]] } } }"), "p.yaml:1:37: enum values must be scalars");
  EXPECT_EQ(config_error("require: { fields: { \"@key\": { type: number } } }"),
            "p.yaml:1:38: envelope field '@key' is always a string");
  EXPECT_EQ(config_error("require: { fields: [a, a..b] }"), "p.yaml:1:24: invalid field path 'a..b': empty segment");
}

}  // namespace
}  // namespace touchpoint::core::test
