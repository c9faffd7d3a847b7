#pragma once
// Times and durations as the rulebook writes them: RFC 3339 timestamps
// ("2026-03-03T10:00:00+01:00", "2026-03-03T09:00:00.250Z") and durations
// ("10d", "36h", "1d12h", "90m", "30s", "2w").

#include <optional>
#include <string>
#include <string_view>

#include "rules/snapshot.hpp"

namespace touchpoint::core::rules {

constexpr TimeMs kSecondMs = 1000;
constexpr TimeMs kMinuteMs = 60 * kSecondMs;
constexpr TimeMs kHourMs = 60 * kMinuteMs;
constexpr TimeMs kDayMs = 24 * kHourMs;

/// Parses an RFC 3339 date-time with a mandatory offset ("Z" or "+hh:mm");
/// fractional seconds are kept to the millisecond (further digits are
/// truncated). "t"/"z" and a space instead of "T" are accepted as RFC 3339
/// allows. nullopt when malformed or out of range (years 0001-9999).
std::optional<TimeMs> parse_rfc3339(std::string_view text);

/// UTC, "2026-03-03T09:00:00Z", or with milliseconds when they are not zero.
std::string format_rfc3339(TimeMs t);

/// Parses a positive duration: one or more <integer><unit> groups, units
/// w, d, h, m, s, ms (e.g. "10d", "1d12h"). nullopt when malformed, zero or
/// longer than 100 years. `why` (optional) gets the reason.
std::optional<TimeMs> parse_duration(std::string_view text, std::string* why = nullptr);

/// The shortest exact form: 864000000 -> "10d", 5400000 -> "1h30m".
std::string format_duration(TimeMs d);

}  // namespace touchpoint::core::rules
