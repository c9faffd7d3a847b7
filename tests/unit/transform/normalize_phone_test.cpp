#include <gtest/gtest.h>

#include "test_util.hpp"

namespace touchpoint::core::test {
namespace {

std::string e164(const Step& s, const std::string& phone_json) {
  Record r = record(R"({"phone": )" + phone_json + "}");
  std::string result = apply(s, r);
  return result == "keep" ? r.data["phone"].get<std::string>() : result;
}

TEST(NormalizePhone, GermanNumbers) {
  Step s = make("normalize_phone: { field: phone, default_region: DE }");
  EXPECT_EQ(e164(s, R"("0170 1234567")"), "+491701234567");
  EXPECT_EQ(e164(s, R"("0170/123 45 67")"), "+491701234567");
  EXPECT_EQ(e164(s, R"("030 12345678")"), "+493012345678");
  EXPECT_EQ(e164(s, R"("+49 (0)30 1234-5678")"), "+493012345678");
  EXPECT_EQ(e164(s, R"("0049 170 1234567")"), "+491701234567");
  EXPECT_EQ(e164(s, R"("+491701234567")"), "+491701234567");
}

TEST(NormalizePhone, NumbersLongerThanE164AllowsAreInvalid) {
  // Found by fuzz_transforms (phone-longer-than-e164): libphonenumber calls
  // +49 with a 15-digit national number valid; E.164 allows 15 digits in all.
  Step s = make("normalize_phone: { field: phone, default_region: DE }");
  EXPECT_EQ(e164(s, R"("+49 34 1234567e.ORG11")"),
            "reject: invalid phone number in 'phone': longer than E.164 allows (15 digits)");
}

TEST(NormalizePhone, AustriaSwitzerlandUs) {
  Step at = make("normalize_phone: { field: phone, default_region: AT }");
  EXPECT_EQ(e164(at, R"("0664 1234567")"), "+436641234567");
  EXPECT_EQ(e164(at, R"("01 5123456")"), "+4315123456");
  Step ch = make("normalize_phone: { field: phone, default_region: CH }");
  EXPECT_EQ(e164(ch, R"("044 668 18 00")"), "+41446681800");
  EXPECT_EQ(e164(ch, R"("078 123 45 67")"), "+41781234567");
  Step us = make("normalize_phone: { field: phone, default_region: US }");
  EXPECT_EQ(e164(us, R"("(201) 555-0123")"), "+12015550123");
  EXPECT_EQ(e164(us, R"("+49 170 1234567")"), "+491701234567");  // an explicit country code wins
}

TEST(NormalizePhone, InternationalFormWorksWithoutRegion) {
  Step s = make("normalize_phone: { field: phone }");
  EXPECT_EQ(e164(s, R"("+43 664 1234567")"), "+436641234567");
  EXPECT_EQ(e164(s, R"("+41 44 668 18 00")"), "+41446681800");
  EXPECT_EQ(e164(s, R"("0170 1234567")"), "reject: invalid phone number in 'phone': unknown or missing country code");
}

TEST(NormalizePhone, RejectsWithSpecificReasons) {
  Step s = make("normalize_phone: { field: phone, default_region: DE }");
  const std::string p = "reject: invalid phone number in 'phone': ";
  EXPECT_EQ(e164(s, R"("hello")"), p + "not a phone number");
  EXPECT_EQ(e164(s, R"("")"), p + "not a phone number");
  EXPECT_EQ(e164(s, R"("+999 1234567")"), p + "unknown or missing country code");
  EXPECT_EQ(e164(s, R"("0")"), p + "not a phone number");
  EXPECT_EQ(e164(s, R"("+49 1")"), p + "too short");
  EXPECT_EQ(e164(s, R"("0170 123456789012345678")"), p + "too long");
  EXPECT_EQ(e164(s, R"("0170 12")"), p + "not a valid number");
  EXPECT_EQ(e164(s, "1701234567"), p + "not a string but number");
}

TEST(NormalizePhone, RepeatedNumbersComeFromTheCacheWithTheSameResult) {
  Step s = make("normalize_phone: { field: phone, default_region: DE }");
  const std::string p = "reject: invalid phone number in 'phone': ";
  for (int round = 0; round < 3; ++round) {  // the first round fills the cache, the others read it
    EXPECT_EQ(e164(s, R"("0170 1234567")"), "+491701234567");
    EXPECT_EQ(e164(s, R"("0170 12")"), p + "not a valid number");
    EXPECT_EQ(e164(s, R"("hello")"), p + "not a phone number");
  }
  // Another step (another region) has its own cache.
  Step at = make("normalize_phone: { field: phone, default_region: AT }");
  EXPECT_EQ(e164(at, R"("0664 1234567")"), "+436641234567");
  EXPECT_EQ(e164(s, R"("0664 1234567")").rfind("+49", 0), 0u);
  // More distinct numbers than the cache holds: full shards are emptied, results stay right.
  for (int i = 0; i < 70000; ++i) {
    std::string n = std::to_string(1000000 + i);
    EXPECT_EQ(e164(s, "\"0170 " + n + "\""), "+49170" + n);
  }
  EXPECT_EQ(e164(s, R"("0170 1234567")"), "+491701234567");
}

TEST(NormalizePhone, RejectedValueStaysAsItWasAndMissingIsSkipped) {
  Step s = make("normalize_phone: { field: contact.phone, default_region: DE }");
  Record r = record(R"({"contact": {"phone": "0170 12"}})");
  EXPECT_EQ(apply(s, r), "reject: invalid phone number in 'contact.phone': not a valid number");
  EXPECT_EQ(r.data["contact"]["phone"], "0170 12");
  Record missing = record(R"({"contact": {}})");
  EXPECT_EQ(apply(s, missing), "keep");
  EXPECT_EQ(missing.data, Json::parse(R"({"contact": {}})"));
}

TEST(NormalizePhone, OnInvalidKeepAndRemove) {
  Step keep = make("normalize_phone: { field: phone, default_region: DE, on_invalid: keep }");
  Record r1 = record(R"({"phone": "n/a"})");
  EXPECT_EQ(apply(keep, r1), "keep");
  EXPECT_EQ(r1.data["phone"], "n/a");
  Step remove = make("normalize_phone: { field: phone, default_region: DE, on_invalid: remove }");
  Record r2 = record(R"({"phone": "n/a", "x": 1})");
  EXPECT_EQ(apply(remove, r2), "keep");
  EXPECT_EQ(r2.data, Json::parse(R"({"x": 1})"));
}

TEST(NormalizePhone, ConfigErrors) {
  EXPECT_EQ(config_error("normalize_phone: { field: phone, default_region: XX }"),
            "p.yaml:1:50: unknown phone region 'XX' (expected an ISO 3166-1 alpha-2 code such as DE, AT, CH, US)");
  EXPECT_EQ(config_error("normalize_phone: { field: phone, default_region: de }"),
            "p.yaml:1:50: unknown phone region 'de' (expected an ISO 3166-1 alpha-2 code such as DE, AT, CH, US)");
  EXPECT_EQ(config_error("normalize_phone: { field: phone, region: DE }"),
            "p.yaml:1:34: unknown option 'region' for normalize_phone");
  EXPECT_EQ(config_error("normalize_phone: { default_region: DE }"),
            "p.yaml:1:18: missing required option 'field' for normalize_phone");
  EXPECT_EQ(config_error("normalize_phone: { field: phone, default_region: [DE] }"),
            "p.yaml:1:50: 'default_region' for normalize_phone must be a string");
  EXPECT_EQ(config_error("normalize_phone: { field: phone, on_invalid: fix }"),
            "p.yaml:1:46: invalid value 'fix' for 'on_invalid' (expected one of: reject, keep, remove)");
}

}  // namespace
}  // namespace touchpoint::core::test
