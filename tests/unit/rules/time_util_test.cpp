// RFC 3339 times and durations as the rulebook writes them.

#include "rules/time_util.hpp"

#include <gtest/gtest.h>

namespace touchpoint::core::rules {
namespace {

TEST(TimeUtil, ParsesRfc3339) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339("2026-03-03T10:00:00+01:00"), parse_rfc3339("2026-03-03T09:00:00Z"));
  EXPECT_EQ(parse_rfc3339("2026-03-03T10:00:00-05:30"), parse_rfc3339("2026-03-03T15:30:00Z"));
  EXPECT_EQ(*parse_rfc3339("2026-03-03T09:00:00.250Z") - *parse_rfc3339("2026-03-03T09:00:00Z"), 250);
  EXPECT_EQ(*parse_rfc3339("2026-03-03T09:00:00.1Z") - *parse_rfc3339("2026-03-03T09:00:00Z"), 100);
  EXPECT_EQ(*parse_rfc3339("2026-03-03T09:00:00.123999Z") - *parse_rfc3339("2026-03-03T09:00:00Z"), 123);
  EXPECT_EQ(parse_rfc3339("2026-03-03t09:00:00z"), parse_rfc3339("2026-03-03T09:00:00Z"));
  EXPECT_EQ(parse_rfc3339("2026-03-03 09:00:00Z"), parse_rfc3339("2026-03-03T09:00:00Z"));
  EXPECT_EQ(parse_rfc3339("2024-02-29T00:00:00Z"), 1709164800000);
  EXPECT_EQ(parse_rfc3339("1969-12-31T23:59:59Z"), -1000);
  EXPECT_EQ(parse_rfc3339("2016-12-31T23:59:60Z"), parse_rfc3339("2016-12-31T23:59:59Z"));
}

TEST(TimeUtil, RejectsMalformedTimes) {
  for (const char* bad :
       {"", "2026-03-03", "2026-03-03T09:00:00", "2026-03-03T09:00Z", "2026-3-03T09:00:00Z", "2026-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-03-03T24:00:00Z",
        "2026-03-03T09:60:00Z", "2026-03-03T09:00:00+0100", "2026-03-03T09:00:00+24:00", "2026-03-03T09:00:00.Z",
        "2026-03-03T09:00:00Zx", "0000-01-01T00:00:00Z", "yesterday"})
    EXPECT_FALSE(parse_rfc3339(bad).has_value()) << bad;
}

TEST(TimeUtil, FormatsUtc) {
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("2026-03-03T10:00:00+01:00")), "2026-03-03T09:00:00Z");
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("2026-03-03T09:00:00.007Z")), "2026-03-03T09:00:00.007Z");
  EXPECT_EQ(format_rfc3339(-1), "1969-12-31T23:59:59.999Z");
  for (TimeMs t : {TimeMs{0}, TimeMs{1709164800000}, TimeMs{-86400001}, TimeMs{253402300799999}})
    EXPECT_EQ(parse_rfc3339(format_rfc3339(t)), t);
}

TEST(TimeUtil, ParsesDurations) {
  EXPECT_EQ(parse_duration("10d"), 10 * kDayMs);
  EXPECT_EQ(parse_duration("7d"), 7 * kDayMs);
  EXPECT_EQ(parse_duration("2w"), 14 * kDayMs);
  EXPECT_EQ(parse_duration("36h"), 36 * kHourMs);
  EXPECT_EQ(parse_duration("1d12h"), 36 * kHourMs);
  EXPECT_EQ(parse_duration("90m"), 90 * kMinuteMs);
  EXPECT_EQ(parse_duration("30s"), 30 * kSecondMs);
  EXPECT_EQ(parse_duration("500ms"), 500);
  EXPECT_EQ(parse_duration("36500d"), 36500 * kDayMs);
}

TEST(TimeUtil, RejectsBadDurations) {
  std::string why;
  EXPECT_FALSE(parse_duration("", &why));
  EXPECT_EQ(why, "empty duration");
  EXPECT_FALSE(parse_duration("10", &why));
  EXPECT_EQ(why, "a duration needs a unit (w, d, h, m, s, ms), e.g. 10d");
  EXPECT_FALSE(parse_duration("10x", &why));
  EXPECT_EQ(why, "unknown unit 'x' (use w, d, h, m, s, ms)");
  EXPECT_FALSE(parse_duration("10 d", &why));
  EXPECT_EQ(why, "a duration needs a unit (w, d, h, m, s, ms), e.g. 10d");
  EXPECT_FALSE(parse_duration("0d", &why));
  EXPECT_EQ(why, "duration must be positive");
  EXPECT_FALSE(parse_duration("-1d", &why));
  EXPECT_EQ(why, "expected a number followed by a unit (w, d, h, m, s, ms)");
  EXPECT_FALSE(parse_duration("d", &why));
  EXPECT_FALSE(parse_duration("36526d", &why));
  EXPECT_EQ(why, "duration is longer than 100 years");
  EXPECT_FALSE(parse_duration("99999999999999999999d", &why));
}

TEST(TimeUtil, FormatsDurations) {
  EXPECT_EQ(format_duration(10 * kDayMs), "10d");
  EXPECT_EQ(format_duration(36 * kHourMs), "1d12h");
  EXPECT_EQ(format_duration(90 * kMinuteMs), "1h30m");
  EXPECT_EQ(format_duration(1500), "1s500ms");
  EXPECT_EQ(format_duration(0), "0s");
}

}  // namespace
}  // namespace touchpoint::core::rules
