// Tryton's JSON-RPC dates ({"__class__": "datetime", "year": ..., "microsecond": ...},
// naive UTC) as microseconds since the epoch, and back.
#ifndef TOUCHPOINT_TRYTON_TIME_HPP
#define TOUCHPOINT_TRYTON_TIME_HPP

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace touchpoint::tryton {

/// nullopt for null, a non-datetime or an impossible date.
std::optional<int64_t> datetime_us(const nlohmann::json& v);
nlohmann::json datetime_json(int64_t us);
/// {"__class__": "date", ...} of the UTC day of `ms`.
nlohmann::json date_json(int64_t ms);
/// "2026-12-03T11:53:45.469752Z"
std::string iso_us(int64_t us);

}  // namespace touchpoint::tryton

#endif  // TOUCHPOINT_TRYTON_TIME_HPP
