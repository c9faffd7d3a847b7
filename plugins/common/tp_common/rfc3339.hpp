// RFC 3339 date-time strings to Unix epoch milliseconds.
#ifndef TP_COMMON_RFC3339_HPP
#define TP_COMMON_RFC3339_HPP

#include <cstdint>
#include <optional>
#include <string_view>

namespace tp_common {

/// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" ('t', 'z' and a
/// space separator are accepted too). Fractions beyond milliseconds are
/// truncated. Returns nullopt for anything else or out-of-range fields.
std::optional<int64_t> parse_rfc3339_ms(std::string_view text) noexcept;

}  // namespace tp_common

#endif  // TP_COMMON_RFC3339_HPP
