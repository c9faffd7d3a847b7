#pragma once
// Times as records and the APIs write them: RFC 3339 date-times
// ("2026-12-01T09:30:00Z", "2026-12-01T10:30:00.250+01:00") or Unix epoch
// milliseconds, always UTC inside the hub.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "record/record.hpp"

namespace touchpoint::core {

/// RFC 3339 with a 'T' (or space) separator, optional fractions (kept to
/// milliseconds) and a 'Z' or ±hh:mm offset. nullopt when malformed.
std::optional<int64_t> parse_rfc3339_ms(std::string_view text);

/// A JSON value that is a time: an RFC 3339 string or integer milliseconds.
std::optional<int64_t> time_of(const Json& value);

/// "2026-12-01T09:30:00.250Z"
std::string format_rfc3339_ms(int64_t ms);

}  // namespace touchpoint::core
