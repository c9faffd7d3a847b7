// JSON bodies of the HTTP responses.
#ifndef TOUCHPOINT_WEBHOOK_RESPONSES_HPP
#define TOUCHPOINT_WEBHOOK_RESPONSES_HPP

#include <cstddef>
#include <string>
#include <string_view>

namespace touchpoint::webhook {

/// Appends `text` as a JSON string literal (with quotes). Bytes that are not
/// valid UTF-8 are replaced by U+FFFD so the result is always valid JSON.
void append_json_string(std::string& out, std::string_view text);

/// {"accepted":N}
std::string accepted_body(size_t count);
/// {"accepted":0,"duplicate":true}: a replayed webhook-id.
std::string duplicate_body();
/// {"error":"..."}
std::string error_body(std::string_view message);
/// {"error":"...","position":N}
std::string error_body(std::string_view message, size_t position);

}  // namespace touchpoint::webhook

#endif  // TOUCHPOINT_WEBHOOK_RESPONSES_HPP
