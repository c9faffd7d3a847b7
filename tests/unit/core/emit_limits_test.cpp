// The limits the host enforces on emit, before anything is acknowledged:
// every TP_MAX_* bound is checked on the unit as a whole, and reject texts
// are made valid UTF-8 instead of being refused.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "plugin/record_validation.hpp"

namespace touchpoint::core {
namespace {

tp_record record(const std::string& data, const std::string& id = "1") {
  tp_record r{};
  r.size = sizeof(tp_record);
  r.id = {id.data(), id.size()};
  r.data = {data.data(), data.size()};
  r.encoding = TP_ENCODING_JSON_UTF8;
  return r;
}

tp_emit unit_of(const std::vector<tp_record>& records, const std::vector<tp_reject>& rejects = {},
                std::string_view cursor = {}) {
  tp_emit u{};
  u.size = sizeof(tp_emit);
  u.records = records.data();
  u.count = records.size();
  u.rejects = rejects.data();
  u.reject_count = rejects.size();
  u.cursor = {cursor.data(), cursor.size()};
  return u;
}

TEST(EmitLimits, UnitWithinLimitsPasses) {
  const std::string data = R"({"email":"a@example.de"})";
  std::vector<tp_record> records(3, record(data));
  std::string problem;
  EXPECT_TRUE(validate_unit_size(unit_of(records), problem)) << problem;
}

TEST(EmitLimits, UnitOverTheUnitLimitIsRefusedAsAWhole) {
  // Five records of 15 MiB each: every record is fine, the unit is not.
  const std::string big = "{\"v\":\"" + std::string(15u << 20, 'x') + "\"}";
  std::vector<tp_record> records(5, record(big));
  std::string problem;
  EXPECT_FALSE(validate_unit_size(unit_of(records), problem));
  EXPECT_NE(problem.find("exceeds TP_MAX_UNIT_BYTES"), std::string::npos) << problem;
  records.resize(4);
  EXPECT_TRUE(validate_unit_size(unit_of(records), problem)) << problem;
}

TEST(EmitLimits, RecordOverTheRecordLimitIsNamed) {
  const std::string big = "{\"v\":\"" + std::string(TP_MAX_RECORD_BYTES, 'x') + "\"}";
  std::vector<tp_record> records{record("{}"), record(big)};
  std::string problem;
  EXPECT_FALSE(validate_unit_size(unit_of(records), problem));
  EXPECT_EQ(problem.rfind("record 1:", 0), 0u) << problem;
  EXPECT_FALSE(validate_record(records[1], problem));
  EXPECT_NE(problem.find("TP_MAX_RECORD_BYTES"), std::string::npos) << problem;
}

TEST(EmitLimits, RejectAndCursorLimits) {
  const std::string raw(TP_MAX_REJECT_BYTES, 'r');
  std::vector<tp_reject> rejects{tp_reject{sizeof(tp_reject), {raw.data(), raw.size()}, {"why", 3}, {"f:1", 3}}};
  std::string problem;
  EXPECT_FALSE(validate_unit_size(unit_of({}, rejects), problem));
  EXPECT_NE(problem.find("TP_MAX_REJECT_BYTES"), std::string::npos) << problem;
  const std::string cursor(TP_MAX_CURSOR_BYTES + 1, 'c');
  EXPECT_FALSE(validate_unit_size(unit_of({}, {}, cursor), problem));
  EXPECT_NE(problem.find("TP_MAX_CURSOR_BYTES"), std::string::npos) << problem;
}

TEST(EmitLimits, FieldLimitsComeFromTheSdkHeader) {
  std::string problem;
  const std::string id(TP_MAX_ID_BYTES + 1, 'i');
  EXPECT_FALSE(validate_record(record("{}", id), problem));
  EXPECT_NE(problem.find("id, type or key too long"), std::string::npos) << problem;
  EXPECT_TRUE(validate_record(record("{}", std::string(TP_MAX_ID_BYTES, 'i')), problem)) << problem;
}

TEST(EmitLimits, RejectTextsBecomeValidUtf8) {
  EXPECT_EQ(sanitize_utf8("plain"), "plain");
  EXPECT_EQ(sanitize_utf8("M\xFC"
                          "ller"),
            "M\xEF\xBF\xBDller");                                    // a Latin-1 byte
  EXPECT_EQ(sanitize_utf8("\xC3\xBC ok"), "\xC3\xBC ok");            // valid UTF-8 stays
  EXPECT_EQ(sanitize_utf8("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // truncated sequence
  EXPECT_EQ(sanitize_utf8(std::string("a\0b", 3)), std::string("a\0b", 3));
  // Linear on large garbage.
  std::string garbage(8u << 20, '\xFF');
  EXPECT_EQ(sanitize_utf8(garbage).size(), garbage.size() * 3);
}

}  // namespace
}  // namespace touchpoint::core
