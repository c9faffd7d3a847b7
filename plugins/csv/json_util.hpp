// Small JSON helpers shared by the config, cursor and record code.
#ifndef TOUCHPOINT_CSV_JSON_UTIL_HPP
#define TOUCHPOINT_CSV_JSON_UTIL_HPP

#include <cstddef>
#include <string>
#include <string_view>

namespace touchpoint::csv {

/// Appends `s` (valid UTF-8) as a JSON string literal, quotes included. Control
/// characters are escaped (\n, \r, \t, \b, \f or \u00XX), as are '"' and '\'.
void append_json_string(std::string& out, std::string_view s);

/// The number of bytes append_json_string() appends for `s`, quotes included.
size_t json_string_size(std::string_view s);

inline std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

}  // namespace touchpoint::csv

#endif  // TOUCHPOINT_CSV_JSON_UTIL_HPP
