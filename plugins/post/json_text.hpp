// Writing JSON string literals without building a DOM (hot path of the export).
#ifndef TOUCHPOINT_POST_JSON_TEXT_HPP
#define TOUCHPOINT_POST_JSON_TEXT_HPP

#include <string>
#include <string_view>

namespace touchpoint::post {

/// Appends `s` (valid UTF-8) as a JSON string literal, quotes included.
inline void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20) {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
}

}  // namespace touchpoint::post

#endif  // TOUCHPOINT_POST_JSON_TEXT_HPP
