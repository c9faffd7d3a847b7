#include <gtest/gtest.h>

#include "test_util.hpp"

namespace touchpoint::core::test {
namespace {

std::string normalized(const Step& s, const std::string& email_json) {
  Record r = record(R"({"email": )" + email_json + "}");
  std::string result = apply(s, r);
  return result == "keep" ? r.data["email"].dump() : result;
}

TEST(NormalizeEmail, TrimsAndLowercases) {
  Step s = make("normalize_email: { field: email }");
  EXPECT_EQ(normalized(s, R"("  Max.Mustermann@Example.DE ")"), R"("max.mustermann@example.de")");
  EXPECT_EQ(normalized(s, R"("\tINFO@Firma.co.at\r\n")"), R"("info@firma.co.at")");
  EXPECT_EQ(normalized(s, R"("already@lower.ch")"), R"("already@lower.ch")");
  EXPECT_EQ(normalized(s, R"("Jürgen@Müller.de")"), R"("jürgen@müller.de")");  // only ASCII is lowercased
}

TEST(NormalizeEmail, RejectsWithSpecificReasons) {
  Step s = make("normalize_email: { field: email }");
  const std::string p = "reject: invalid email in 'email': ";
  EXPECT_EQ(normalized(s, R"("   ")"), p + "empty");
  EXPECT_EQ(normalized(s, R"("max.example.de")"), p + "missing '@'");
  EXPECT_EQ(normalized(s, R"("max@@example.de")"), p + "more than one '@'");
  EXPECT_EQ(normalized(s, R"("a@b@example.de")"), p + "more than one '@'");
  EXPECT_EQ(normalized(s, R"("@example.de")"), p + "empty local part");
  EXPECT_EQ(normalized(s, R"("max@")"), p + "empty domain");
  EXPECT_EQ(normalized(s, R"("max@localhost")"), p + "domain has no dot");
  EXPECT_EQ(normalized(s, R"("max@example.")"), p + "domain starts or ends with a dot");
  EXPECT_EQ(normalized(s, R"("max mustermann@example.de")"), p + "contains whitespace");
  EXPECT_EQ(normalized(s, "4711"), p + "not a string but number");
  EXPECT_EQ(normalized(s, "null"), p + "not a string but null");
  EXPECT_EQ(normalized(s, "[\"a@b.de\"]"), p + "not a string but array");
}

TEST(NormalizeEmail, LengthLimitIs254) {
  Step s = make("normalize_email: { field: email }");
  std::string domain = "@example.de";  // 11 characters
  std::string ok = std::string(254 - domain.size(), 'a') + domain;
  EXPECT_EQ(normalized(s, "\"" + ok + "\""), "\"" + ok + "\"");
  EXPECT_EQ(normalized(s, "\"A" + ok + "\""), "reject: invalid email in 'email': longer than 254 bytes");
}

TEST(NormalizeEmail, RejectedValueStaysAsItWas) {
  Step s = make("normalize_email: { field: email }");
  Record r = record(R"({"email": " Max@Localhost "})");
  EXPECT_EQ(apply(s, r), "reject: invalid email in 'email': domain has no dot");
  EXPECT_EQ(r.data["email"], " Max@Localhost ");
}

TEST(NormalizeEmail, MissingFieldIsLeftAlone) {
  Step s = make("normalize_email: { field: contact.email }");
  Record r = record(R"({"name": "x"})");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data, Json::parse(R"({"name": "x"})"));
  Record nested = record(R"({"contact": {"email": "X@Y.DE"}})");
  EXPECT_EQ(apply(s, nested), "keep");
  EXPECT_EQ(nested.data["contact"]["email"], "x@y.de");
}

TEST(NormalizeEmail, OnInvalidKeepAndRemove) {
  Step keep = make("normalize_email: { field: email, on_invalid: keep }");
  Record r1 = record(R"({"email": " Not An Email ", "x": 1})");
  EXPECT_EQ(apply(keep, r1), "keep");
  EXPECT_EQ(r1.data, Json::parse(R"({"email": " Not An Email ", "x": 1})"));
  Record valid = record(R"({"email": " A@B.DE"})");
  EXPECT_EQ(apply(keep, valid), "keep");
  EXPECT_EQ(valid.data["email"], "a@b.de");

  Step remove = make("normalize_email: { field: email, on_invalid: remove }");
  Record r2 = record(R"({"email": 12, "x": 1})");
  EXPECT_EQ(apply(remove, r2), "keep");
  EXPECT_EQ(r2.data, Json::parse(R"({"x": 1})"));
}

TEST(NormalizeEmail, ConfigErrors) {
  EXPECT_EQ(config_error("normalize_email: { fieldz: email }"),
            "p.yaml:1:20: unknown option 'fieldz' for normalize_email");
  EXPECT_EQ(config_error("normalize_email: { on_invalid: keep }"),
            "p.yaml:1:18: missing required option 'field' for normalize_email");
  EXPECT_EQ(config_error("normalize_email: email"), "p.yaml:1:18: options for normalize_email must be a map");
  EXPECT_EQ(config_error("normalize_email:"), "p.yaml:1:1: options for normalize_email must be a map");
  EXPECT_EQ(config_error("normalize_email: { field: [email] }"),
            "p.yaml:1:27: 'field' for normalize_email must be a field path");
  EXPECT_EQ(config_error("normalize_email: { field: email, on_invalid: drop }"),
            "p.yaml:1:46: invalid value 'drop' for 'on_invalid' (expected one of: reject, keep, remove)");
  EXPECT_EQ(config_error("normalize_email: { field: email, on_invalid: }"),
            "p.yaml:1:34: 'on_invalid' for normalize_email must be a string");
  EXPECT_EQ(config_error("normalize_email: { field: \"@key\" }"),
            "p.yaml:1:27: normalize_email works on data fields only, not '@key'");
}

}  // namespace
}  // namespace touchpoint::core::test
