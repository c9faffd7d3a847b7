#include <gtest/gtest.h>

#include "test_util.hpp"

namespace touchpoint::core::test {
namespace {

/// Applies a filter step to `data` and returns its outcome.
std::string run(const std::string& yaml, const std::string& data) {
  Step s = make(yaml);
  Record r = record(data);
  return apply(s, r);
}

TEST(Filter, EqKeepsMatchingAndDropsTheRest) {
  const char* f = "filter: { field: country, op: eq, value: DE, action: drop }";
  EXPECT_EQ(run(f, R"({"country": "DE"})"), "keep");
  EXPECT_EQ(run(f, R"({"country": "AT"})"), "drop: filter not matched: country eq \"DE\"");
  EXPECT_EQ(run(f, "{}"), "drop: filter not matched: country eq \"DE\"");
  EXPECT_EQ(run(f, R"({"country": null})"), "drop: filter not matched: country eq \"DE\"");
}

TEST(Filter, RejectAction) {
  EXPECT_EQ(run("filter: { field: country, op: eq, value: DE, action: reject }", R"({"country": "CH"})"),
            "reject: filter not matched: country eq \"DE\"");
}

TEST(Filter, EqIsTyped) {
  const char* number = "filter: { field: n, op: eq, value: 1 }";
  EXPECT_EQ(run(number, R"({"n": 1})"), "keep");
  EXPECT_EQ(run(number, R"({"n": 1.0})"), "keep");
  EXPECT_EQ(run(number, R"({"n": "1"})"), "drop: filter not matched: n eq 1");
  EXPECT_EQ(run(number, R"({"n": true})"), "drop: filter not matched: n eq 1");
  const char* quoted = R"(filter: { field: n, op: eq, value: "1" })";
  EXPECT_EQ(run(quoted, R"({"n": "1"})"), "keep");
  EXPECT_EQ(run(quoted, R"({"n": 1})"), "drop: filter not matched: n eq \"1\"");
  const char* boolean = "filter: { field: consent.email, op: eq, value: true }";
  EXPECT_EQ(run(boolean, R"({"consent": {"email": true}})"), "keep");
  EXPECT_EQ(run(boolean, R"({"consent": {"email": "true"}})"), "drop: filter not matched: consent.email eq true");
}

TEST(Filter, NeHoldsForMissingFields) {
  const char* f = "filter: { field: status, op: ne, value: deleted }";
  EXPECT_EQ(run(f, R"({"status": "active"})"), "keep");
  EXPECT_EQ(run(f, "{}"), "keep");
  EXPECT_EQ(run(f, R"({"status": "deleted"})"), "drop: filter not matched: status ne \"deleted\"");
}

TEST(Filter, InAndNotIn) {
  const char* in = "filter: { field: country, op: in, value: [DE, AT, CH] }";
  EXPECT_EQ(run(in, R"({"country": "AT"})"), "keep");
  EXPECT_EQ(run(in, R"({"country": "US"})"), "drop: filter not matched: country in [\"DE\",\"AT\",\"CH\"]");
  EXPECT_EQ(run(in, "{}"), "drop: filter not matched: country in [\"DE\",\"AT\",\"CH\"]");
  const char* not_in = "filter: { field: country, op: not_in, value: [US, 1] }";
  EXPECT_EQ(run(not_in, R"({"country": "DE"})"), "keep");
  EXPECT_EQ(run(not_in, "{}"), "keep");
  EXPECT_EQ(run(not_in, R"({"country": 1})"), "drop: filter not matched: country not_in [\"US\",1]");
}

TEST(Filter, ExistsAndMissing) {
  const char* exists = "filter: { field: email, op: exists }";
  EXPECT_EQ(run(exists, R"({"email": ""})"), "keep");
  EXPECT_EQ(run(exists, R"({"email": null})"), "drop: filter not matched: email exists");
  EXPECT_EQ(run(exists, "{}"), "drop: filter not matched: email exists");
  const char* missing = "filter: { field: internal.test, op: missing, action: reject }";
  EXPECT_EQ(run(missing, "{}"), "keep");
  EXPECT_EQ(run(missing, R"({"internal": {"test": null}})"), "keep");
  EXPECT_EQ(run(missing, R"({"internal": {"test": false}})"), "reject: filter not matched: internal.test missing");
}

TEST(Filter, Regex) {
  const char* f = R"(filter: { field: email, op: regex, value: "@example\\.(de|at)$" })";
  EXPECT_EQ(run(f, R"({"email": "max@example.de"})"), "keep");
  EXPECT_EQ(run(f, R"({"email": "max@example.com"})"),
            "drop: filter not matched: email regex \"@example\\\\.(de|at)$\"");
  EXPECT_EQ(run(f, R"({"email": 5})"), "drop: filter not matched: email regex \"@example\\\\.(de|at)$\"");
  EXPECT_EQ(run(f, "{}"), "drop: filter not matched: email regex \"@example\\\\.(de|at)$\"");
  // A plain scalar that looks like a number is still a pattern.
  EXPECT_EQ(run("filter: { field: zip, op: regex, value: 10 }", R"({"zip": "10115"})"), "keep");
}

TEST(Filter, NumericComparisons) {
  EXPECT_EQ(run("filter: { field: age, op: ge, value: 18 }", R"({"age": 18})"), "keep");
  EXPECT_EQ(run("filter: { field: age, op: ge, value: 18 }", R"({"age": 17.9})"),
            "drop: filter not matched: age ge 18");
  EXPECT_EQ(run("filter: { field: age, op: gt, value: 18 }", R"({"age": 18})"), "drop: filter not matched: age gt 18");
  EXPECT_EQ(run("filter: { field: age, op: gt, value: 18 }", R"({"age": 18.5})"), "keep");
  EXPECT_EQ(run("filter: { field: score, op: lt, value: 0.5 }", R"({"score": 0.25})"), "keep");
  EXPECT_EQ(run("filter: { field: score, op: lt, value: 0.5 }", R"({"score": 0.5})"),
            "drop: filter not matched: score lt 0.5");
  EXPECT_EQ(run("filter: { field: score, op: le, value: -1 }", R"({"score": -1})"), "keep");
  EXPECT_EQ(run("filter: { field: score, op: le, value: -1 }", R"({"score": 0})"),
            "drop: filter not matched: score le -1");
  // Numeric strings, booleans and missing fields are not numbers.
  EXPECT_EQ(run("filter: { field: age, op: ge, value: 18 }", R"({"age": "42"})"),
            "drop: filter not matched: age ge 18");
  EXPECT_EQ(run("filter: { field: age, op: lt, value: 18 }", R"({"age": false})"),
            "drop: filter not matched: age lt 18");
  EXPECT_EQ(run("filter: { field: age, op: lt, value: 18 }", "{}"), "drop: filter not matched: age lt 18");
}

TEST(Filter, EnvelopeFields) {
  Step type = make("filter: { field: \"@type\", op: eq, value: profile }");
  Record r = record("{}");
  r.type = "profile";
  EXPECT_EQ(apply(type, r), "keep");
  r.type = "event";
  EXPECT_EQ(apply(type, r), "drop: filter not matched: @type eq \"profile\"");

  Step key = make("filter: { field: \"@key\", op: exists }");
  EXPECT_EQ(apply(key, r), "drop: filter not matched: @key exists");
  r.key = "4711";
  EXPECT_EQ(apply(key, r), "keep");

  Step numeric_text = make("filter: { field: \"@key\", op: in, value: [4711, 4712] }");  // compared as written
  EXPECT_EQ(apply(numeric_text, r), "keep");
  Step regex = make("filter: { field: \"@key\", op: regex, value: \"^47\" }");
  EXPECT_EQ(apply(regex, r), "keep");
  Step ne = make("filter: { field: \"@id\", op: ne, value: r-1 }");
  EXPECT_EQ(apply(ne, r), "drop: filter not matched: @id ne \"r-1\"");
}

TEST(Filter, ConfigErrors) {
  EXPECT_EQ(
      config_error("filter: { field: a, op: equals, value: 1 }"),
      "p.yaml:1:25: invalid value 'equals' for 'op' (expected one of: eq, ne, in, not_in, exists, missing, regex, "
      "gt, ge, lt, le)");
  EXPECT_EQ(config_error("filter: { field: a, value: 1 }"), "p.yaml:1:9: missing required option 'op' for filter");
  EXPECT_EQ(config_error("filter: { op: eq, value: 1 }"), "p.yaml:1:9: missing required option 'field' for filter");
  EXPECT_EQ(config_error("filter: { field: a, op: eq }"), "p.yaml:1:9: missing required option 'value' for filter");
  EXPECT_EQ(config_error("filter: { field: a, op: eq, value: 1, actions: drop }"),
            "p.yaml:1:39: unknown option 'actions' for filter");
  EXPECT_EQ(config_error("filter: { field: a, op: eq, value: 1, action: keep }"),
            "p.yaml:1:47: invalid value 'keep' for 'action' (expected one of: drop, reject)");
  EXPECT_EQ(config_error("filter: { field: a, op: exists, value: 1 }"), "p.yaml:1:40: op 'exists' takes no value");
  EXPECT_EQ(config_error("filter: { field: a, op: in, value: DE }"),
            "p.yaml:1:36: value for op 'in' must be a non-empty list");
  EXPECT_EQ(config_error("filter: { field: a, op: not_in, value: [] }"),
            "p.yaml:1:40: value for op 'not_in' must be a non-empty list");
  EXPECT_EQ(config_error("filter: { field: a, op: gt, value: \"18\" }"),
            "p.yaml:1:36: value for op 'gt' must be a number");
  EXPECT_EQ(config_error("filter: { field: a, op: le, value: abc }"),
            "p.yaml:1:36: value for op 'le' must be a number");
  EXPECT_EQ(config_error("filter: { field: a, op: regex, value: \"[a-\" }"),
            "p.yaml:1:39: invalid regex '[a-': a '[' is never closed at '[a-'");
  EXPECT_EQ(config_error("filter: { field: \"@type\", op: gt, value: 1 }"),
            "p.yaml:1:31: op 'gt' compares numbers; envelope field '@type' is a string");
  EXPECT_EQ(config_error("filter: { field: \"@type\", op: eq, value: [a] }"),
            "p.yaml:1:42: values compared with an envelope field must be strings");
  EXPECT_EQ(config_error("filter: { field: \"@ts\", op: exists }"),
            "p.yaml:1:18: unknown envelope field '@ts' (known: @id, @key, @type)");
  EXPECT_EQ(config_error("filter: { field: a, op: eq, value: .nan }"),
            "p.yaml:1:36: non-finite number '.nan' has no JSON representation");
}

}  // namespace
}  // namespace touchpoint::core::test
