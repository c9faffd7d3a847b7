// log: PII masking and the logfmt line; metrics: Prometheus text exposition.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "util/log.hpp"
#include "util/metrics.hpp"

namespace touchpoint::core {
namespace {

using log::mask_pii;

TEST(MaskPii, EmailsKeepFirstLetterAndDomain) {
  EXPECT_EQ(mask_pii("jane.doe@example.com"), "j***@example.com");
  EXPECT_EQ(mask_pii("contact <Jane.Doe+news@mail.example.co.uk> now"), "contact <J***@mail.example.co.uk> now");
  EXPECT_EQ(mask_pii("a@b.de, c.d@e.org"), "a***@b.de, c***@e.org");
  EXPECT_EQ(mask_pii("id 42@home"), "id 42@home");  // no domain: not an address
}

TEST(MaskPii, PhoneLikeDigitRunsKeepLastTwoDigits) {
  EXPECT_EQ(mask_pii("+49 170 1234567"), "***67");
  EXPECT_EQ(mask_pii("call 0170/1234567 or +1 (555) 123-4567."), "call ***67 or ***67.");
  EXPECT_EQ(mask_pii("tel:+491701234567;"), "tel:***67;");
}

TEST(MaskPii, IbanLikeValuesLoseTheirDigits) {
  EXPECT_EQ(mask_pii("IBAN DE89 3704 0044 0532 0130 00"), "IBAN DE***00");
  EXPECT_EQ(mask_pii("DE89370400440532013000"), "DE***00");
  std::string masked = mask_pii("payer GB29 NWBK 6016 1331 9268 19");
  EXPECT_EQ(masked.find("1331"), std::string::npos) << masked;
}

TEST(MaskPii, TextWithoutPiiIsUnchanged) {
  for (const char* s : {"", "applied 42 records in 3 ms", "pipeline web-signups reloaded", "seq 12345 ok", "2 @ 3",
                        "user@localhost", "quarantined 4096 bytes of 00000000000000000001.tpj at offset 123456789",
                        "record ts 1795431469133 applied up to seq 98765432", "since 2026-11-23T10:57:38.507Z",
                        "csv:ade2aab3bc8f23c0:116:2"})
    EXPECT_EQ(mask_pii(s), s);
}

TEST(MaskPii, EveryOccurrenceIsMasked) {
  std::string in;
  for (int i = 0; i < 50; ++i)
    in += "user" + std::to_string(i) + "@example.com +49 30 123456" + std::to_string(i % 10) + "; ";
  std::string out = mask_pii(in);
  EXPECT_EQ(out.find("user1"), std::string::npos);
  EXPECT_EQ(out.find("123456"), std::string::npos);
  EXPECT_NE(out.find("u***@example.com ***"), std::string::npos);
}

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = log::level(); }
  void TearDown() override { log::set_level(saved_); }
  log::Level saved_ = log::Level::info;
};

TEST_F(LogTest, WritesOneMaskedLogfmtLine) {
  log::set_level(log::Level::info);
  ::testing::internal::CaptureStderr();
  log::warn("applier", "rejected \"jane@example.com\"\nphone +49 170 1234567 \\ end");
  std::string out = ::testing::internal::GetCapturedStderr();
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back(), '\n');
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
  const std::string expected =
      "level=warn component=applier msg=\"rejected \\\"j***@example.com\\\"\\nphone ***67 \\\\ end\"\n";
  ASSERT_GE(out.size(), expected.size());
  EXPECT_EQ(out.substr(out.size() - expected.size()), expected) << out;
  // Prefix: an ISO-8601 UTC timestamp, or a syslog priority under journald.
  std::string prefix = out.substr(0, out.size() - expected.size());
  EXPECT_TRUE(std::regex_match(prefix, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z |<4>)"))) << prefix;
}

TEST_F(LogTest, LevelFiltering) {
  log::set_level(log::Level::warn);
  EXPECT_FALSE(log::enabled(log::Level::info));
  EXPECT_TRUE(log::enabled(log::Level::error));
  ::testing::internal::CaptureStderr();
  log::info("x", "hidden");
  log::debug("x", "hidden");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");

  log::Level l = log::Level::info;
  EXPECT_TRUE(log::parse_level("debug", l));
  EXPECT_EQ(l, log::Level::debug);
  EXPECT_FALSE(log::parse_level("verbose", l));
  EXPECT_EQ(l, log::Level::debug);
}

// ---- metrics --------------------------------------------------------------

/// Checks the Prometheus text exposition format (version 0.0.4) line by line:
/// one TYPE per family before its samples, valid names, label syntax, values.
void expect_valid_exposition(const std::string& text) {
  static const std::regex comment(R"(# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*))");
  static const std::regex sample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*\})? (NaN|[+-]Inf|[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?))");
  ASSERT_TRUE(text.empty() || text.back() == '\n');
  std::istringstream in(text);
  std::string line, family;
  std::set<std::string> typed;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, comment)) {
      if (m[1] == "TYPE") {
        EXPECT_TRUE(typed.insert(m[2]).second) << "second TYPE for " << m[2];
        EXPECT_TRUE(m[3] == "counter" || m[3] == "gauge" || m[3] == "histogram") << line;
        family = m[2];
      }
      continue;
    }
    ASSERT_TRUE(std::regex_match(line, m, sample)) << "not a valid sample line: " << line;
    std::string name = m[1];
    EXPECT_TRUE(name == family || name == family + "_bucket" || name == family + "_sum" || name == family + "_count")
        << line << " outside its family " << family;
  }
}

TEST(Metrics, CountersAndGaugesWithLabels) {
  Metrics m;
  m.counter_add("tp_records_total", "pipeline=web,step=1:rename", 2);
  m.counter_add("tp_records_total", "pipeline=web,step=1:rename", 3);
  m.counter_add("tp_records_total", "", 1);
  m.counter_add("tp_records_total", "", -5);  // counters never go down
  m.gauge_set("tp_queue", "sink=a\"b\\c\nd", 1.5);
  m.gauge_set("tp_queue", "sink=x", 7);
  m.gauge_set("tp_queue", "sink=x", 2);
  m.describe("tp_records_total", "Records seen per step");
  EXPECT_EQ(m.value("tp_records_total", "pipeline=web,step=1:rename"), 5);
  EXPECT_EQ(m.value("tp_records_total"), 1);
  EXPECT_EQ(m.value("tp_queue", "sink=x"), 2);
  EXPECT_EQ(m.value("nope"), 0);
  const std::string text = m.render();
  EXPECT_EQ(text,
            "# TYPE tp_queue gauge\n"
            "tp_queue{sink=\"a\\\"b\\\\c\\nd\"} 1.5\n"
            "tp_queue{sink=\"x\"} 2\n"
            "# HELP tp_records_total Records seen per step\n"
            "# TYPE tp_records_total counter\n"
            "tp_records_total 1\n"
            "tp_records_total{pipeline=\"web\",step=\"1:rename\"} 5\n");
  expect_valid_exposition(text);
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  Metrics m;
  m.observe("tp_apply_seconds", "pipeline=a", 0.003);
  m.observe("tp_apply_seconds", "pipeline=a", 0.2);
  m.observe("tp_apply_seconds", "pipeline=a", 20);
  const std::string text = m.render();
  expect_valid_exposition(text);
  EXPECT_NE(text.find("# TYPE tp_apply_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("tp_apply_seconds_bucket{pipeline=\"a\",le=\"0.0025\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tp_apply_seconds_bucket{pipeline=\"a\",le=\"0.005\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tp_apply_seconds_bucket{pipeline=\"a\",le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tp_apply_seconds_bucket{pipeline=\"a\",le=\"0.25\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tp_apply_seconds_bucket{pipeline=\"a\",le=\"10\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tp_apply_seconds_bucket{pipeline=\"a\",le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tp_apply_seconds_count{pipeline=\"a\"} 3\n"), std::string::npos) << text;
  std::smatch sum;
  ASSERT_TRUE(std::regex_search(text, sum, std::regex("tp_apply_seconds_sum\\{pipeline=\"a\"\\} (\\S+)\n")));
  EXPECT_NEAR(std::stod(sum[1]), 20.203, 1e-9);
}

TEST(Metrics, InvalidInputNeverBreaksTheExposition) {
  Metrics m;
  m.counter_add("bad-name", "", 1);
  m.counter_add("1starts_with_digit", "", 1);
  m.counter_add("", "", 1);
  m.counter_add("tp_total", "bad-label=x,=novalue,noequals,ok=1", 1);
  m.gauge_set("tp_nan", "", std::numeric_limits<double>::quiet_NaN());
  m.gauge_set("tp_inf", "dir=up", std::numeric_limits<double>::infinity());
  m.gauge_set("tp_inf", "dir=down", -std::numeric_limits<double>::infinity());
  m.gauge_set("tp_total", "", 3);  // already a counter: ignored
  m.observe("tp_total", "", 0.1);  // likewise
  m.counter_add("tp_nan", "", 1);  // a gauge: ignored
  m.describe("tp_total", "two\nlines \\ backslash");
  const std::string text = m.render();
  expect_valid_exposition(text);
  EXPECT_EQ(text.find("bad-name"), std::string::npos);
  EXPECT_EQ(text.find("1starts"), std::string::npos);
  EXPECT_NE(text.find("tp_nan NaN\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tp_inf{dir=\"down\"} -Inf\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tp_inf{dir=\"up\"} +Inf\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tp_total{bad_label=\"x\",ok=\"1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# HELP tp_total two\\nlines \\\\ backslash\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("tp_total_bucket"), std::string::npos) << text;
}

TEST(Metrics, HelpGivenBeforeTheFirstValueIsKept) {
  Metrics m;
  m.describe("tp_later", "Set at start-up");
  EXPECT_EQ(m.render(), "");  // no family without a value
  m.gauge_set("tp_later", "", 0.25);
  EXPECT_EQ(m.render(), "# HELP tp_later Set at start-up\n# TYPE tp_later gauge\ntp_later 0.25\n");
}

TEST(Metrics, JoinLabels) {
  EXPECT_EQ(join_labels("", ""), "");
  EXPECT_EQ(join_labels("a=b", ""), "a=b");
  EXPECT_EQ(join_labels("", "x=y"), "x=y");
  EXPECT_EQ(join_labels("a=b,c=d", "x=y"), "a=b,c=d,x=y");
}

TEST(Metrics, ConcurrentUpdatesAreNotLost) {
  Metrics m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) m.counter_add("tp_c", "k=v", 1);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(m.value("tp_c", "k=v"), 40000);
}

}  // namespace
}  // namespace touchpoint::core
