// Copied from plugins/webhook/rfc3339.* (plugins do not link each other).
// RFC 3339 date-time strings to Unix epoch milliseconds.
#ifndef TOUCHPOINT_CALLCENTER_RFC3339_HPP
#define TOUCHPOINT_CALLCENTER_RFC3339_HPP

#include <cstdint>
#include <optional>
#include <string_view>

namespace touchpoint::callcenter {

/// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" ('t', 'z' and a
/// space separator are accepted too). Fractions beyond milliseconds are
/// truncated. Returns nullopt for anything else or out-of-range fields.
std::optional<int64_t> parse_rfc3339_ms(std::string_view text) noexcept;

}  // namespace touchpoint::callcenter

#endif  // TOUCHPOINT_CALLCENTER_RFC3339_HPP
