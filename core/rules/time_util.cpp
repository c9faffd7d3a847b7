#include "rules/time_util.hpp"

#include <charconv>
#include <cstdio>

namespace touchpoint::core::rules {

namespace {

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2 ? 1 : 0;
}

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

/// Reads exactly n digits at s[pos]; advances pos.
bool digits(std::string_view s, size_t& pos, size_t n, unsigned& out) {
  if (pos + n > s.size()) return false;
  unsigned v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  pos += n;
  out = v;
  return true;
}

bool expect(std::string_view s, size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

std::optional<TimeMs> parse_rfc3339(std::string_view s) {
  size_t pos = 0;
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(s, pos, 4, year) || !expect(s, pos, '-') || !digits(s, pos, 2, month) || !expect(s, pos, '-') ||
      !digits(s, pos, 2, day))
    return std::nullopt;
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ')) return std::nullopt;
  ++pos;
  if (!digits(s, pos, 2, hour) || !expect(s, pos, ':') || !digits(s, pos, 2, minute) || !expect(s, pos, ':') ||
      !digits(s, pos, 2, second))
    return std::nullopt;
  unsigned millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 3) millis = millis * 10 + static_cast<unsigned>(s[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0) return std::nullopt;
    for (size_t k = n; k < 3; ++k) millis *= 10;
  }
  int64_t offset_min = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const bool neg = s[pos] == '-';
    ++pos;
    unsigned oh = 0, om = 0;
    if (!digits(s, pos, 2, oh) || !expect(s, pos, ':') || !digits(s, pos, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_min = (neg ? -1 : 1) * static_cast<int64_t>(oh * 60 + om);
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 ||
      second > 60)
    return std::nullopt;
  if (second == 60) second = 59;  // a leap second is the last second of its minute
  const int64_t days = days_from_civil(year, month, day);
  const int64_t local_ms = days * kDayMs + hour * kHourMs + minute * kMinuteMs + second * kSecondMs + millis;
  return local_ms - offset_min * kMinuteMs;
}

std::string format_rfc3339(TimeMs t) {
  int64_t days = t / kDayMs;
  int64_t rem = t % kDayMs;
  if (rem < 0) {
    rem += kDayMs;
    --days;
  }
  int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  const auto h = static_cast<int>(rem / kHourMs);
  const auto mi = static_cast<int>(rem % kHourMs / kMinuteMs);
  const auto s = static_cast<int>(rem % kMinuteMs / kSecondMs);
  const auto ms = static_cast<int>(rem % kSecondMs);
  char buf[48];
  if (ms != 0)
    std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<long long>(y), m, d, h, mi, s,
                  ms);
  else
    std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02d:%02d:%02dZ", static_cast<long long>(y), m, d, h, mi, s);
  return buf;
}

std::optional<TimeMs> parse_duration(std::string_view s, std::string* why) {
  auto fail = [&](const std::string& w) -> std::optional<TimeMs> {
    if (why) *why = w;
    return std::nullopt;
  };
  constexpr TimeMs kMax = 36525 * kDayMs;  // 100 years
  if (s.empty()) return fail("empty duration");
  TimeMs total = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    int64_t n = 0;
    auto [p, ec] = std::from_chars(s.data() + pos, s.data() + s.size(), n);
    if (ec != std::errc() || p == s.data() + pos || n < 0)
      return fail("expected a number followed by a unit (w, d, h, m, s, ms)");
    pos = static_cast<size_t>(p - s.data());
    size_t ustart = pos;
    while (pos < s.size() && s[pos] >= 'a' && s[pos] <= 'z') ++pos;
    const std::string_view unit = s.substr(ustart, pos - ustart);
    TimeMs mult = 0;
    if (unit == "w")
      mult = 7 * kDayMs;
    else if (unit == "d")
      mult = kDayMs;
    else if (unit == "h")
      mult = kHourMs;
    else if (unit == "m")
      mult = kMinuteMs;
    else if (unit == "s")
      mult = kSecondMs;
    else if (unit == "ms")
      mult = 1;
    else if (unit.empty())
      return fail("a duration needs a unit (w, d, h, m, s, ms), e.g. 10d");
    else
      return fail("unknown unit '" + std::string(unit) + "' (use w, d, h, m, s, ms)");
    if (n > kMax / mult || total > kMax - n * mult) return fail("duration is longer than 100 years");
    total += n * mult;
  }
  if (total <= 0) return fail("duration must be positive");
  return total;
}

std::string format_duration(TimeMs d) {
  if (d <= 0) return "0s";
  std::string out;
  struct Unit {
    TimeMs ms;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{kDayMs, "d"}, {kHourMs, "h"}, {kMinuteMs, "m"}, {kSecondMs, "s"}, {1, "ms"}};
  for (const Unit& u : kUnits) {
    if (d >= u.ms) {
      out += std::to_string(d / u.ms) + u.name;
      d %= u.ms;
    }
  }
  return out;
}

}  // namespace touchpoint::core::rules
