// log: PII masking and the logfmt line; metrics: Prometheus text exposition.

#include <gtest/gtest.h>
#include <time.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <iterator>
#include <limits>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

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

// The expressions mask_pii used to run (std::regex, which backtracks): the
// definition its scanner must agree with, checked on random short text.
std::string regex_mask_pii(const std::string& text) {
  auto word_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  auto looks_like_phone = [&](const std::string& s, size_t pos, size_t len) {
    if (pos > 0 && (word_char(s[pos - 1]) || s[pos - 1] == '.' || s[pos - 1] == '/')) return false;
    const size_t end = pos + len;
    if (end < s.size() && (word_char(s[end]) || (s[end] == '.' && end + 1 < s.size() && word_char(s[end + 1]))))
      return false;
    static const std::regex date(R"(\d{4}-\d{2}-\d{2})");
    const std::string m = s.substr(pos, len);
    if (std::regex_search(m, date)) return false;
    return m[0] == '+' || m[0] == '0' || m.find_first_not_of("0123456789") != std::string::npos;
  };
  static const std::regex email(R"(([A-Za-z0-9])[A-Za-z0-9._%+\-]*@([A-Za-z0-9.\-]+\.[A-Za-z]{2,}))");
  static const std::regex iban(R"(\b([A-Z]{2})[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?)");
  static const std::regex phone(R"(\+?[0-9][0-9 ()/\-]{5,}[0-9]{2})");
  std::string s = std::regex_replace(text, email, "$1***@$2");
  auto mask_all = [&](const std::regex& re, auto keep) {
    std::string out;
    size_t last = 0;
    for (auto it = std::sregex_iterator(s.begin(), s.end(), re); it != std::sregex_iterator(); ++it) {
      const auto pos = static_cast<size_t>(it->position(0));
      out.append(s, last, pos - last);
      out += keep(*it, pos);
      last = pos + static_cast<size_t>(it->length(0));
    }
    out.append(s, last, std::string::npos);
    s.swap(out);
  };
  mask_all(iban, [](const std::smatch& m, size_t) { return m.str(1) + "***" + m.str(0).substr(m.length(0) - 2); });
  mask_all(phone, [&](const std::smatch& m, size_t pos) {
    return looks_like_phone(s, pos, static_cast<size_t>(m.length(0))) ? "***" + m.str(0).substr(m.length(0) - 2)
                                                                      : m.str(0);
  });
  return s;
}

TEST(MaskPii, AgreesWithTheRegularExpressionsItReplaces) {
  const char* pieces[] = {"a",    "Z",    "D",    "E",  "0",    "1",     "9",   "@",   ".",      "-",         "+",
                          " ",    "(",    ")",    "/",  "_",    "%",     "de",  "com", "\n",     "ü",         ":",
                          "DE89", "3704", "1234", "AB", "GB29", "@b.de", "+49", "00",  "x@y.co", "2024-01-15"};
  std::mt19937 random(20261123);
  for (int i = 0; i < 3000; ++i) {
    std::string text;
    for (unsigned n = random() % 30; n > 0; --n) text += pieces[random() % std::size(pieces)];
    ASSERT_EQ(mask_pii(text), regex_mask_pii(text)) << "input: " << text;
  }
}

/// CPU seconds this thread spends in f().
template <class F>
double cpu_seconds(F&& f) {
  auto now = [] {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  };
  const double start = now();
  f();
  return now() - start;
}

// A backtracking matcher needs hours (or overflows its stack) on these; a
// linear scan needs a fraction of a second even under AddressSanitizer. The
// bound is generous: it is there to catch minutes.
TEST(MaskPii, HugeLinesTakeLinearTime) {
  constexpr size_t kHuge = size_t{16} << 20;
  auto times = [](const std::string& piece, size_t n) {  // by doubling: quick in unoptimized builds
    std::string out = piece;
    out.reserve(piece.size() * n);
    while (out.size() < piece.size() * n) out.append(out, 0, std::min(out.size(), piece.size() * n - out.size()));
    return out;
  };
  // The piece repeated to `size`, and its expected masking repeated as often.
  auto repeated = [&](const std::string& piece, const std::string& masked, size_t size) {
    const size_t n = size / piece.size() + 1;
    return std::make_pair(times(piece, n), times(masked, n));
  };
  const std::string digits(kHuge, '7');
  const std::string ibans = times("AB12", kHuge / 4);
  std::vector<std::pair<std::string, std::string>> cases{
      {digits, digits},         // a bare number is no phone number
      {"0" + digits, "***77"},  // with a leading 0 it is one
      {std::string(kHuge, '@'), std::string(kHuge, '@')},
      repeated("a.", "a.", kHuge),
      {times("a.", kHuge / 2) + "@b.de", "a***@b.de"},
      repeated("a@", "a@", kHuge),
      repeated("a@b.", "a@b.", kHuge),
      repeated("1 ", "1 ", kHuge),  // no digit pair ends a phone number
      {times("12-", kHuge / 3), "***12-"},
      {ibans, "AB***B1" + ibans.substr(35)},  // only the first has a word boundary before it
      // Hundreds of thousands of values to mask (4 MiB: each match costs a few appends).
      repeated("x@y.de ", "x***@y.de ", kHuge / 4),
      repeated("DE89 3704 0044 0532 0130 00 ", "DE***00 ", kHuge / 4),
      repeated("+49 170 1234567, ", "***67, ", kHuge / 4),
  };
  // A backtracking matcher takes minutes here; linear code well under a
  // second, or a few under ThreadSanitizer, which slows every access.
#if defined(__SANITIZE_THREAD__)
  constexpr double kBudget = 8.0;
#else
  constexpr double kBudget = 2.0;
#endif
  for (const auto& [in, expected] : cases) {
    std::string out;
    const double s = cpu_seconds([&] { out = mask_pii(in); });
    EXPECT_LT(s, kBudget) << in.substr(0, 20) << "... took " << s << " s";
    EXPECT_EQ(out.size(), expected.size()) << in.substr(0, 20);
    EXPECT_TRUE(out == expected) << in.substr(0, 20) << "... became " << out.substr(0, 100);
  }
}

TEST(MaskPii, RepeatedValuesAreEachMasked) {
  std::string in, expected;
  for (int i = 0; i < 1000; ++i) {
    in += "x@y.de DE89 3704 0044 0532 0130 00 +49 170 1234567, ";
    expected += "x***@y.de DE***00 ***67, ";
  }
  EXPECT_EQ(mask_pii(in), expected);
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

TEST_F(LogTest, LongMessagesAreCutWithAMarker) {
  log::set_level(log::Level::info);
  auto logged = [](const std::string& message) {
    ::testing::internal::CaptureStderr();
    log::warn("applier", message);
    std::string out = ::testing::internal::GetCapturedStderr();
    const size_t msg = out.find(" msg=\"");
    return msg == std::string::npos ? out : out.substr(msg + 6, out.size() - msg - 8);  // without quotes and '\n'
  };
  const std::string whole(log::kMaxMessageBytes, 'x');
  EXPECT_EQ(logged(whole), whole);
  const std::string huge = std::string(size_t{16} << 20, '7');
  std::string out;
  const double s = cpu_seconds([&] { out = logged(huge); });
  EXPECT_LT(s, 2.0);
  EXPECT_EQ(out, std::string(log::kMaxMessageBytes, '7') + " [... " +
                     std::to_string(huge.size() - log::kMaxMessageBytes) + " more bytes not logged]");
  // The cut never splits a character...
  const std::string umlaut = std::string(log::kMaxMessageBytes - 1, ' ') + "ü and more";
  EXPECT_EQ(logged(umlaut), std::string(log::kMaxMessageBytes - 1, ' ') + " [... 11 more bytes not logged]");
  // ...nor leaves half an e-mail address (or number) behind to escape masking.
  const std::string pad(log::kMaxMessageBytes - 10, ' ');
  const std::string email = pad + "jane.doe@example.com " + std::string(100, 'y');
  EXPECT_EQ(logged(email), pad + " [... " + std::to_string(email.size() - pad.size()) + " more bytes not logged]");
  const std::string phone = pad + "+49 170 1234567";
  EXPECT_EQ(logged(phone), pad + "+49 170  [... 7 more bytes not logged]");
  // A cut through a token longer than any address backs up no further than 256 bytes.
  const std::string word = std::string(100, ' ') + std::string(log::kMaxMessageBytes, 'w');
  EXPECT_EQ(logged(word).size(), log::kMaxMessageBytes + std::string(" [... 100 more bytes not logged]").size());
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
