// The SDK's test harness (touchpoint/testing.hpp) refuses exactly what the hub refuses on
// emit, so plugin tests catch units the hub would not take. Driven through the host table
// it hands to plugins, with the csv plugin loaded as the source.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"  // abi.h macros, see sdk.hpp
#include <touchpoint/testing.hpp>
#pragma GCC diagnostic pop

namespace touchpoint::csv {
namespace {

using touchpoint::testing::Harness;
using touchpoint::testing::detail::JsonCheck;

tp_str str(std::string_view s) { return tp_str{s.data(), s.size()}; }

// Borrows its arguments: pass literals, or strings that outlive the emit.
tp_record record(std::string_view data, std::string_view meta = "", std::string_view type = "profile",
                 std::string_view id = "", std::string_view key = "") {
  tp_record r{};
  r.size = sizeof(tp_record);
  r.id = str(id);
  r.type = str(type);
  r.key = str(key);
  r.data = str(data);
  r.meta = str(meta);
  r.encoding = TP_ENCODING_JSON_UTF8;
  return r;
}

// A JSON object of exactly `size` bytes.
std::string object_of_size(size_t size) { return "{\"a\":\"" + std::string(size - 8, 'x') + "\"}"; }

class HarnessLimits : public ::testing::Test {
 protected:
  struct Result {
    tp_status status;
    std::string message;
  };
  Result emit(const std::vector<tp_record>& records, const std::vector<tp_reject>& rejects = {},
              const std::string& cursor = "") {
    tp_emit u{};
    u.size = sizeof(tp_emit);
    u.records = records.data();
    u.count = records.size();
    u.rejects = rejects.data();
    u.reject_count = rejects.size();
    u.cursor = str(cursor);
    char buf[1024];
    tp_error err{sizeof(tp_error), buf, sizeof(buf), 0};
    const tp_status st = h_.host_api()->emit(
        h_.host_ctx(), &u, [](void*, tp_status, tp_str) {}, nullptr, &err);
    return {st, std::string(buf, err.len)};
  }
  // Refused: PERMANENT, the message names `what`, and nothing of the unit was kept.
  void expect_refused(const Result& r, const std::string& what) {
    EXPECT_EQ(r.status, TP_STATUS_PERMANENT) << what;
    EXPECT_NE(r.message.find(what), std::string::npos) << r.message;
    EXPECT_EQ(h_.records().size(), kept_records_);
    EXPECT_EQ(h_.rejects().size(), kept_rejects_);
    ASSERT_FALSE(h_.refusals().empty());
    EXPECT_EQ(h_.refusals().back().message, r.message);
  }
  void expect_accepted(const Result& r, size_t records, size_t rejects = 0) {
    EXPECT_EQ(r.status, TP_OK) << r.message;
    kept_records_ += records;
    kept_rejects_ += rejects;
    EXPECT_EQ(h_.records().size(), kept_records_);
    EXPECT_EQ(h_.rejects().size(), kept_rejects_);
  }

  Harness h_{TP_CSV_PLUGIN};
  size_t kept_records_ = 0;
  size_t kept_rejects_ = 0;
};

TEST_F(HarnessLimits, RefusesAUnitOverTheUnitLimit) {
  // Four records of almost 16 MiB each, plus a cursor that makes up the rest of 64 MiB. The
  // sizes are checked before anything is parsed, so the refusals cost nothing.
  const size_t data_size = TP_MAX_RECORD_BYTES - 1024;
  const std::string data = object_of_size(data_size);
  const std::vector<tp_record> four(4, record(data, "", ""));  // empty type: only data counts
  const size_t records_cost = 4 * (data_size + TP_UNIT_RECORD_OVERHEAD);
  ASSERT_LT(records_cost, TP_MAX_UNIT_BYTES);
  const std::string rest(TP_MAX_UNIT_BYTES - records_cost, 'c');
  Result r = emit(four, {}, rest + "c");
  expect_refused(r, "TP_MAX_UNIT_BYTES");
  EXPECT_NE(r.message.find(std::to_string(TP_MAX_UNIT_BYTES + 1)), std::string::npos) << r.message;
  EXPECT_TRUE(h_.cursors().empty());

  // A reject counts with its overhead, too: one byte of raw costs 1 + TP_UNIT_RECORD_OVERHEAD.
  const std::string one = "x";
  const std::vector<tp_reject> reject{tp_reject{sizeof(tp_reject), str(one), tp_str{nullptr, 0}, tp_str{nullptr, 0}}};
  const std::string rest_with_reject(rest.size() - 1 - TP_UNIT_RECORD_OVERHEAD, 'c');
  expect_refused(emit(four, reject, rest_with_reject + "c"), "TP_MAX_UNIT_BYTES");

  // Exactly at the limit is accepted. (Rejects, so that no JSON is parsed: 64 of them, of
  // 1 MiB - 64 bytes each, are 64 MiB with their overhead.)
  const std::string raw(TP_MAX_REJECT_BYTES - TP_UNIT_RECORD_OVERHEAD, 'r');
  std::vector<tp_reject> many(64, tp_reject{sizeof(tp_reject), str(raw), tp_str{nullptr, 0}, tp_str{nullptr, 0}});
  expect_refused(emit({}, many, "c"), "TP_MAX_UNIT_BYTES");
  expect_accepted(emit({}, many), 0, 64);
}

TEST_F(HarnessLimits, RefusesRecordsRejectsAndCursorsOverTheirLimits) {
  const std::string at_limit = object_of_size(TP_MAX_RECORD_BYTES - 2);
  expect_accepted(emit({record(at_limit, "{}")}), 1);
  expect_refused(emit({record(at_limit, "{ }")}), "TP_MAX_RECORD_BYTES");

  const std::string big_raw(TP_MAX_REJECT_BYTES - 2, 'r');
  const std::string two = "ab", three = "abc";
  expect_accepted(emit({}, {tp_reject{sizeof(tp_reject), str(big_raw), str(two), tp_str{nullptr, 0}}}), 0, 1);
  expect_refused(emit({}, {tp_reject{sizeof(tp_reject), str(big_raw), str(two), str(three)}}), "TP_MAX_REJECT_BYTES");

  expect_accepted(emit({}, {}, std::string(TP_MAX_CURSOR_BYTES, 'c')), 0);
  expect_refused(emit({}, {}, std::string(TP_MAX_CURSOR_BYTES + 1, 'c')), "TP_MAX_CURSOR_BYTES");

  expect_accepted(emit({record("{}", "", "p", std::string(TP_MAX_ID_BYTES, 'i'), std::string(TP_MAX_KEY_BYTES, 'k'))}),
                  1);
  expect_refused(emit({record("{}", "", "p", std::string(TP_MAX_ID_BYTES + 1, 'i'))}), "id, type or key too long");
  expect_refused(emit({record("{}", "", "p", "", std::string(TP_MAX_KEY_BYTES + 1, 'k'))}), "too long");
  expect_refused(emit({record("{}", "", std::string(TP_MAX_TYPE_BYTES + 1, 't'))}), "too long");
}

TEST_F(HarnessLimits, RefusesWhatTheHubCannotStore) {
  expect_accepted(emit({record("{}", "", "crm.contact_v-2")}), 1);
  Result r = emit({record("{}"), record("{}", "", "Profile")});
  expect_refused(r, "type must use a-z, 0-9");
  EXPECT_EQ(r.message.rfind("record 1: ", 0), 0u) << r.message;  // names the record, like the hub
  expect_refused(emit({record("{}", "", "pro file")}), "type must use");
  expect_refused(emit({record("{}", "", "profile", "M\xFCller")}), "not valid UTF-8");
  expect_refused(emit({record("{}", "", "profile", "", "\xC3\x28")}), "not valid UTF-8");
  expect_refused(emit({record("{}", "", "\xED\xA0\x80")}), "UTF-8");  // a surrogate

  expect_refused(emit({record("")}), "data is not valid JSON");
  expect_refused(emit({record("[1]")}), "data must be a JSON object");
  expect_refused(emit({record("{\"a\":1")}), "data is not valid JSON");
  expect_refused(emit({record("{\"a\":\"\xFC\"}")}), "invalid UTF-8");
  expect_refused(emit({record("{}", "[]")}), "meta must be a JSON object");
  expect_refused(emit({record("{}", " ")}), "meta is not valid JSON");
  expect_accepted(emit({record(" {\"a\":[1,-2.5e3,true,false,null,{}],\"b\":\"\\u00e4\\ud83d\\ude00\"}\n",
                               "{\"file\":\"a.csv\",\"line\":2}")}),
                  1);

  tp_record wrong = record("{}");
  wrong.encoding = 7;
  expect_refused(emit({wrong}), "unsupported encoding");
  tp_record small = record("{}");
  small.size = offsetof(tp_record, encoding);
  expect_refused(emit({small}), "tp_record.size");
}

TEST(HarnessJson, StructuralCheck) {
  for (const char* ok : {"{}", " {} ", "{\"a\":{\"b\":[[],[{}]]}}", "{\"n\":[0,-0,1.5,1e5,1E-5,-12.34e+56]}",
                         "{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\"}", "{\"\xC3\xA4\":\"\xF0\x9F\x98\x80\"}"})
    EXPECT_EQ(JsonCheck::object(ok), "") << ok;
  for (const char* bad : {"",
                          "{",
                          "}",
                          "{\"a\"}",
                          "{\"a\":}",
                          "{\"a\":1,}",
                          "{a:1}",
                          "{\"a\":01}",
                          "{\"a\":1.}",
                          "{\"a\":.5}",
                          "{\"a\":-}",
                          "{\"a\":1e}",
                          "{\"a\":tru}",
                          "{\"a\":nul}",
                          "{\"a\":[1,]}",
                          "{\"a\":[1 2]}",
                          "{} {}",
                          "{}x",
                          "{\"a\":\"\\x\"}",
                          "{\"a\":\"\\u12\"}",
                          "{\"a\":\"\\udc00\"}",
                          "{\"a\":\"\\ud800\"}",
                          "{\"a\":\"\\ud800\\u0041\"}",
                          "{\"a\":'x'}",
                          "{\"a\":\"unterminated}"})
    EXPECT_NE(JsonCheck::object(bad), "") << bad;
  EXPECT_NE(JsonCheck::object(std::string("{\"a\":\"\x01\"}")), "");  // raw control character
  EXPECT_NE(JsonCheck::object(std::string("{\"a\":\"\0\"}", 9)), "");
  EXPECT_EQ(JsonCheck::object("[]"), "must be a JSON object");
  EXPECT_EQ(JsonCheck::object("\"s\""), "must be a JSON object");
  // Nesting: iterative, bounded like the hub's parser.
  std::string deep =
      "{\"a\":" + std::string(JsonCheck::kMaxDepth - 1, '[') + std::string(JsonCheck::kMaxDepth - 1, ']') + "}";
  EXPECT_EQ(JsonCheck::object(deep), "");
  std::string deeper =
      "{\"a\":" + std::string(JsonCheck::kMaxDepth, '[') + std::string(JsonCheck::kMaxDepth, ']') + "}";
  EXPECT_NE(JsonCheck::object(deeper), "");
  EXPECT_NE(JsonCheck::object("{\"a\":" + std::string(1000000, '[')), "");
}

TEST(HarnessRefusals, SimulatedRefusalsCountDown) {
  Harness h(TP_CSV_PLUGIN);
  h.refuse_next_emits(2, TP_STATUS_PERMANENT, "simulated");
  const std::string data = "{}";
  tp_record r = record(data);
  tp_emit u{};
  u.size = sizeof(tp_emit);
  u.records = &r;
  u.count = 1;
  char buf[256];
  for (tp_status expected : {TP_STATUS_PERMANENT, TP_STATUS_PERMANENT, TP_OK}) {
    tp_error err{sizeof(tp_error), buf, sizeof(buf), 0};
    EXPECT_EQ(h.host_api()->emit(
                  h.host_ctx(), &u, [](void*, tp_status, tp_str) {}, nullptr, &err),
              expected);
  }
  EXPECT_EQ(h.records().size(), 1u);
  ASSERT_EQ(h.refusals().size(), 2u);
  EXPECT_EQ(h.refusals()[0].message, "simulated");
}

}  // namespace
}  // namespace touchpoint::csv

namespace touchpoint::csv {
namespace {

TEST(HarnessOpen, AFailedOpenThrowsAndTheHarnessStaysUsable) {
  Harness h(TP_CSV_PLUGIN);
  EXPECT_THROW(h.open(R"({"inbox":""})"), std::runtime_error);
  EXPECT_THROW(h.open(R"({"inbox":"x","max_row_bytes":67108864})"), std::runtime_error);
  std::string dir = (std::filesystem::temp_directory_path() / "tp_csv_harness_XXXXXX").string();
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  {
    auto inst = h.open(R"({"inbox":")" + dir + R"(","settle_ms":0})");
    EXPECT_EQ(inst->read(), TP_OK);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace touchpoint::csv
