// ASCII text helpers for header values (case folding, whitespace, bounds).
#ifndef TP_EMAIL_INTAKE_TEXT_UTIL_HPP
#define TP_EMAIL_INTAKE_TEXT_UTIL_HPP

#include <cstddef>
#include <string>
#include <string_view>

namespace tp_email::intake::detail {

std::string to_lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);
/// Position of `needle` in `hay`, ignoring ASCII case; npos when absent.
std::size_t ifind(std::string_view hay, std::string_view needle, std::size_t from = 0);
std::string_view trim(std::string_view s);
/// Folding and control characters become single spaces; trimmed.
std::string normalize_space(std::string_view s);
/// At most `max` bytes, cut on a UTF-8 character boundary.
std::string truncate_utf8(std::string_view s, std::size_t max);

}  // namespace tp_email::intake::detail

#endif
