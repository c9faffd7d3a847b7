// Small text helpers shared by the sink and the source: UTF-8 checks, JSON
// string output, and masking of phone numbers for log lines.
#ifndef TOUCHPOINT_CALLCENTER_TEXT_HPP
#define TOUCHPOINT_CALLCENTER_TEXT_HPP

#include <cstddef>
#include <string>
#include <string_view>

namespace touchpoint::callcenter {

/// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool valid_utf8(std::string_view s) noexcept;

/// Byte offset of the first malformed UTF-8 sequence, or npos.
size_t invalid_utf8_at(std::string_view s) noexcept;

/// True when `s` holds a C0 control character or DEL; `allow_whitespace` admits tab, CR and LF.
bool has_control(std::string_view s, bool allow_whitespace) noexcept;

/// Appends `s` as a JSON string literal (quotes included). `s` must be valid UTF-8.
void append_json_string(std::string& out, std::string_view s);

/// `s` shortened to at most `max` bytes at a UTF-8 boundary, with "..." when cut, and control
/// characters shown as '?': safe to quote in an error message.
std::string excerpt(std::string_view s, size_t max = 64);

/// `s` with every byte that is not part of well-formed UTF-8 written as "\\xNN", cut to at most
/// `max` input bytes: for the raw input of a reject, which should be UTF-8.
std::string escape_invalid_utf8(std::string_view s, size_t max = 64 * 1024);

/// "+4930123456" -> "+49*****56": enough to tell numbers apart in a log, not enough to dial.
std::string mask_phone(std::string_view phone);

}  // namespace touchpoint::callcenter

#endif  // TOUCHPOINT_CALLCENTER_TEXT_HPP
